// The network at rest, as TRACE_FORMAT.md v1.1 "Settled, with TCP" defines it, for the
// sockets of one run: no half-open handshake, every byte sent to a live peer acknowledged
// (delayed ACKs included), every UDP receive queue stable. Read with one NETLINK_SOCK_DIAG
// dump per protocol (inet_diag with tcp_info) over the ports the run's AF_INET sockets
// ever had, or from /proc/net/tcp and /proc/net/udp where inet_diag is a module that is not
// loaded (the qemu guests have no modules); the executor compares two looks in a row, as it
// does for its tasks.
#pragma once
#include <chrono>
#include <cstdint>
#include <map>
#include <tuple>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "fd.h"

namespace real {

class NetRest {
 public:
  // Opens the netlink socket at `fd_floor` or above (a run must leave the low numbers to
  // the trace), or the /proc/net files if it cannot dump. False (and *error) if neither.
  // kProc reads /proc/net even where inet_diag works (for tests of that path).
  enum class Source { kAuto, kProc };
  bool open(int fd_floor, std::string* error, Source source = Source::kAuto);
  // Notes the local ports of the AF_INET sockets among `fds` (getsockname); a run's port
  // stays noted after its socket is closed (an orphan still finishes its handshakes).
  void note(std::span<const int> fds);
  bool any() const { return !ports_.empty(); }

  // One socket as the dump shows it.
  struct Row {
    int protocol = 0;  // IPPROTO_TCP or IPPROTO_UDP
    int state = 0;     // TCP_* (inet_diag idiag_state)
    int sport = 0, dport = 0;
    uint32_t rqueue = 0, wqueue = 0;
    uint32_t unacked = 0;  // tcpi_unacked (0 without tcp_info; from /proc: 1 while the retransmit timer is armed)
    uint32_t retransmits = 0;
    friend bool operator==(const Row&, const Row&) = default;
    friend auto operator<=>(const Row&, const Row&) = default;
  };
  struct View {
    bool at_rest = true;
    std::string why;  // the first socket that is not at rest
    std::vector<Row> rows;  // sorted
    friend bool operator==(const View& a, const View& b) { return a.at_rest == b.at_rest && a.rows == b.rows; }
  };
  // The noted sockets now; at_rest false (with why) if the dump fails.
  View look();
  // Whether a set of rows is at rest (exposed for tests). `waiting` says of a SYN_SENT or
  // SYN_RECV row whether it has stayed so long (kHandshakeQuiet) that its segment was
  // dropped and only a retransmission timer can move it: on loopback a handshake is done
  // before connect returns unless the softirq was deferred, which takes far less.
  static bool at_rest(const std::vector<Row>& rows, std::string* why, const std::set<size_t>* waiting = nullptr);
  static constexpr std::chrono::milliseconds kHandshakeQuiet{20};

 private:
  bool dump(int protocol, std::vector<Row>* rows);
  bool read_proc(int protocol, std::vector<Row>* rows);
  Fd nl_;
  Fd proc_tcp_, proc_udp_;  // open instead of nl_ when inet_diag cannot dump
  std::set<int> ports_;
  // When each half-open handshake (sport, dport, state) was first seen, while it lasts.
  std::map<std::tuple<int, int, int>, std::chrono::steady_clock::time_point> half_open_since_;
};

}  // namespace real

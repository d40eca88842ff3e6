#include "net_rest.h"

#include <fcntl.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <sstream>

namespace real {

namespace {

// include/net/tcp_states.h
constexpr int kSynSent = 2, kSynRecv = 3, kTimeWait = 6, kListen = 10, kNewSynRecv = 12;

// `fd` at `fd_floor` or above, close-on-exec (the low numbers are the trace's).
Fd above(Fd fd, int fd_floor) {
  if (!fd) return fd;
  return Fd(::fcntl(fd.get(), F_DUPFD_CLOEXEC, fd_floor));
}

}  // namespace

bool NetRest::open(int fd_floor, std::string* error, Source source) {
  if (source == Source::kAuto) {
    nl_ = above(Fd(::socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG)), fd_floor);
    std::vector<Row> probe;
    if (nl_ && dump(IPPROTO_TCP, &probe)) return true;
  }
  // No inet_diag (CONFIG_INET_DIAG=m and no modules, as in the qemu guests): the same
  // numbers from tcp4_seq_show / udp4_format_sock.
  nl_.reset();
  proc_tcp_ = above(Fd(::open("/proc/net/tcp", O_RDONLY | O_CLOEXEC)), fd_floor);
  proc_udp_ = above(Fd(::open("/proc/net/udp", O_RDONLY | O_CLOEXEC)), fd_floor);
  if (!proc_tcp_ || !proc_udp_) {
    *error = std::string("no inet_diag dump, and /proc/net/tcp or /proc/net/udp: ") + std::strerror(errno);
    return false;
  }
  return true;
}

void NetRest::note(std::span<const int> fds) {
  for (int fd : fds) {
    sockaddr_in a{};
    socklen_t len = sizeof a;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0 || a.sin_family != AF_INET) continue;
    if (a.sin_port) ports_.insert(ntohs(a.sin_port));
  }
}

// One inet_diag dump (every state, with tcp_info), keeping the sockets whose either port
// is one of ours.
bool NetRest::dump(int protocol, std::vector<Row>* rows) {
  struct {
    nlmsghdr nh;
    inet_diag_req_v2 req;
  } msg{};
  msg.nh.nlmsg_len = sizeof msg;
  msg.nh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
  msg.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  msg.req.sdiag_family = AF_INET;
  msg.req.sdiag_protocol = static_cast<uint8_t>(protocol);
  msg.req.idiag_states = ~0u;
  msg.req.idiag_ext = 1 << (INET_DIAG_INFO - 1);
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  if (::sendto(nl_.get(), &msg, sizeof msg, 0, reinterpret_cast<sockaddr*>(&kernel), sizeof kernel) < 0) return false;
  alignas(nlmsghdr) static thread_local char buf[65536];
  for (;;) {
    const ssize_t got = ::recv(nl_.get(), buf, sizeof buf, 0);
    if (got < 0) return false;
    auto n = static_cast<unsigned>(got);  // NLMSG_OK compares it with the u32 nlmsg_len
    for (auto* h = reinterpret_cast<nlmsghdr*>(buf); NLMSG_OK(h, n); h = NLMSG_NEXT(h, n)) {
      if (h->nlmsg_type == NLMSG_DONE) return true;
      if (h->nlmsg_type == NLMSG_ERROR) return false;
      const auto* d = static_cast<const inet_diag_msg*>(NLMSG_DATA(h));
      Row r;
      r.protocol = protocol;
      r.state = d->idiag_state;
      r.sport = ntohs(d->id.idiag_sport);
      r.dport = ntohs(d->id.idiag_dport);
      if (!ports_.count(r.sport) && !ports_.count(r.dport)) continue;
      r.rqueue = d->idiag_rqueue;
      r.wqueue = d->idiag_wqueue;
      int len = static_cast<int>(h->nlmsg_len - NLMSG_LENGTH(sizeof *d));
      for (auto* a = reinterpret_cast<const rtattr*>(d + 1); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
        if (a->rta_type != INET_DIAG_INFO) continue;
        tcp_info info{};
        std::memcpy(&info, RTA_DATA(a), std::min<size_t>(RTA_PAYLOAD(a), sizeof info));
        r.unacked = info.tcpi_unacked;
        r.retransmits = info.tcpi_retransmits;
      }
      rows->push_back(r);
    }
  }
}

// One read of /proc/net/tcp or /proc/net/udp from its start (a seq_file restarts at offset
// 0), as get_tcp4_sock prints it. Its queues are inet_diag's (rx: rcv_nxt - copied_seq, or
// the accept backlog of a listener; tx: write_seq - snd_una), except a listener's tx, which
// is 0, not its max_ack_backlog: a SYN dropped by a full listener is then at rest only once
// it has waited kHandshakeQuiet. tcpi_unacked is not there, but packets are in flight
// exactly while the retransmit timer (tr 1) is armed (tcp_rearm_rto).
bool NetRest::read_proc(int protocol, std::vector<Row>* rows) {
  const int fd = protocol == IPPROTO_TCP ? proc_tcp_.get() : proc_udp_.get();
  std::string text;
  char buf[16384];
  for (off_t at = 0;;) {
    const ssize_t got = ::pread(fd, buf, sizeof buf, at);
    if (got < 0) return false;
    if (got == 0) break;
    text.append(buf, static_cast<size_t>(got));
    at += got;
  }
  std::istringstream lines(text);
  std::string line;
  std::getline(lines, line);  // the header
  while (std::getline(lines, line)) {
    unsigned laddr, lport, raddr, rport, state, txq, rxq, timer, retrans;
    unsigned long when;
    if (std::sscanf(line.c_str(), " %*u: %x:%x %x:%x %x %x:%x %x:%lx %x", &laddr, &lport, &raddr, &rport, &state, &txq,
                    &rxq, &timer, &when, &retrans) != 10) {
      return false;
    }
    Row r;
    r.protocol = protocol;
    r.state = static_cast<int>(state);
    r.sport = static_cast<int>(lport);
    r.dport = static_cast<int>(rport);
    if (!ports_.count(r.sport) && !ports_.count(r.dport)) continue;
    r.rqueue = rxq;
    r.wqueue = txq;
    r.unacked = protocol == IPPROTO_TCP && timer == 1 ? 1 : 0;
    r.retransmits = retrans;
    rows->push_back(r);
  }
  return true;
}

bool NetRest::at_rest(const std::vector<Row>& rows, std::string* why, const std::set<size_t>* waiting) {
  // A listener whose accept queue is full drops SYNs: the client waits for its SYN
  // retransmission timer, which is time, not delivery.
  auto full_listener = [&](int port) {
    return std::any_of(rows.begin(), rows.end(), [&](const Row& l) {
      return l.protocol == IPPROTO_TCP && l.state == kListen && l.sport == port && l.rqueue > l.wqueue;
    });
  };
  for (size_t i = 0; i < rows.size(); ++i) {
    const Row& r = rows[i];
    if (r.protocol != IPPROTO_TCP || r.state == kListen || r.state == kTimeWait) continue;
    // A segment was lost (a retransmission, or a handshake stuck for kHandshakeQuiet):
    // what moves it next is a timer, which is time.
    const bool timer = r.retransmits > 0 || (waiting && waiting->count(i));
    std::string what;
    if ((r.state == kSynSent) && !timer && !full_listener(r.dport)) what = "SYN_SENT";
    else if ((r.state == kSynRecv || r.state == kNewSynRecv) && !timer && !full_listener(r.sport)) what = "SYN_RECV";
    else if (r.state != kSynSent && r.unacked > 0 && !timer) what = "unacknowledged segments";
    if (!what.empty()) {
      if (why) *why = what + " on port " + std::to_string(r.sport) + " -> " + std::to_string(r.dport);
      return false;
    }
  }
  return true;
}

NetRest::View NetRest::look() {
  View v;
  if (ports_.empty()) return v;
  const bool read = nl_ ? dump(IPPROTO_TCP, &v.rows) && dump(IPPROTO_UDP, &v.rows)
                        : read_proc(IPPROTO_TCP, &v.rows) && read_proc(IPPROTO_UDP, &v.rows);
  if (!read) {
    v.at_rest = false;
    v.why = nl_ ? "sock_diag dump failed" : "reading /proc/net/tcp or /proc/net/udp failed";
    return v;
  }
  std::sort(v.rows.begin(), v.rows.end());
  const auto now = std::chrono::steady_clock::now();
  std::map<std::tuple<int, int, int>, std::chrono::steady_clock::time_point> since;
  std::set<size_t> waiting;
  for (size_t i = 0; i < v.rows.size(); ++i) {
    const Row& r = v.rows[i];
    if (r.protocol != IPPROTO_TCP || (r.state != kSynSent && r.state != kSynRecv && r.state != kNewSynRecv)) continue;
    const auto key = std::make_tuple(r.sport, r.dport, r.state);
    const auto it = half_open_since_.find(key);
    const auto first = it == half_open_since_.end() ? now : it->second;
    since.emplace(key, first);
    if (now - first >= kHandshakeQuiet) waiting.insert(i);
  }
  half_open_since_ = std::move(since);
  v.at_rest = at_rest(v.rows, &v.why, &waiting);
  return v;
}

}  // namespace real

#include "net_rest.h"

#include <fcntl.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace real {

namespace {

// include/net/tcp_states.h
constexpr int kSynSent = 2, kSynRecv = 3, kTimeWait = 6, kListen = 10, kNewSynRecv = 12;

}  // namespace

bool NetRest::open(int fd_floor, std::string* error) {
  Fd low(::socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG));
  if (!low) {
    *error = std::string("socket(NETLINK_SOCK_DIAG): ") + std::strerror(errno);
    return false;
  }
  nl_.reset(::fcntl(low.get(), F_DUPFD_CLOEXEC, fd_floor));
  if (!nl_) {
    *error = std::string("F_DUPFD_CLOEXEC: ") + std::strerror(errno);
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
    int n = static_cast<int>(got);
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
  if (!dump(IPPROTO_TCP, &v.rows) || !dump(IPPROTO_UDP, &v.rows)) {
    v.at_rest = false;
    v.why = "sock_diag dump failed";
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

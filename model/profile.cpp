#include "profile.h"

#include <charconv>

namespace model {

std::string KernelVersion::str() const {
  std::string s = std::to_string(major) + "." + std::to_string(minor);
  if (patch) s += "." + std::to_string(patch);
  return s;
}

std::optional<KernelVersion> KernelVersion::parse(std::string_view text) {
  KernelVersion v;
  int* parts[3] = {&v.major, &v.minor, &v.patch};
  const char* p = text.data();
  const char* end = text.data() + text.size();
  int n = 0;
  while (n < 3 && p < end) {
    auto [next, ec] = std::from_chars(p, end, *parts[n]);
    if (ec != std::errc{}) break;
    ++n;
    p = next;
    if (p < end && *p == '.') ++p;
    else break;
  }
  if (n < 2) return std::nullopt;
  return v;
}

std::optional<KernelVersion> KernelVersion::from_uname(std::string_view release, std::string_view version) {
  constexpr std::string_view kDebian = "Debian ";
  if (const size_t at = version.find(kDebian); at != std::string_view::npos) {
    const std::string_view rest = version.substr(at + kDebian.size());
    if (auto v = parse(rest.substr(0, rest.find_first_of(" -+~")))) return v;
  }
  return parse(release);
}

KernelProfile KernelProfile::for_version(KernelVersion v) {
  KernelProfile p;
  p.version = v;
  if (changes::kPipeEtWakeWhenPolled.in(v)) p.pipe_reader_wake = PipeReaderWake::kWhenEmptyOrPolled;
  else if (changes::kPipeAlwaysWake.in(v)) p.pipe_reader_wake = PipeReaderWake::kAlways;
  else p.pipe_reader_wake = PipeReaderWake::kOnlyWhenEmpty;
  p.ep_wait_checks_fd_first = changes::kEpCheckParamsFdFirst.in(v);
  p.ep_loop_check_upwards = changes::kEpLoopCheckUpwards.in(v);
  p.ep_callback_sync_wake = changes::kEpCallbackSyncWake.in(v);
  p.has_epoll_pwait2 = changes::kEpollPwait2.in(v);
  p.efd_write_exact_size = changes::kEventfdWriteExactSize.in(v);
  p.reuseport_inet_only = changes::kReuseportInetOnly.in(v);
  p.udp_accept_only_into_empty = changes::kUdpAcceptOnlyIntoEmpty.in(v);
  p.has_notification_pipe_flag = changes::kNotificationPipe.in(v);
  p.nproto = changes::kAfMctp.in(v) ? 46 : 45;
  return p;
}

}  // namespace model

// The kernel matrix's parts that need no guest: profile changes with stable backports,
// version detection from uname, the guest's wire format, the initramfs archive.
#include <gtest/gtest.h>

#include <cstdlib>
#include <sstream>

#include "model/profile.h"
#include "oracle/guest_wire.h"
#include "oracle/initramfs.h"
#include "oracle/kernel_profile.h"
#include "oracle/qemu_guest.h"

using model::KernelProfile;
using model::KernelVersion;
namespace changes = model::changes;

TEST(KernelChange, MainlineAndTheStableReleasesOfItsBackports) {
  // f2e467a48287: 6.17, 6.1.149 and 6.12.43 (Debian's 6.1 and 6.12 changelogs).
  EXPECT_TRUE(changes::kEpLoopCheckUpwards.in({6, 17, 0}));
  EXPECT_TRUE(changes::kEpLoopCheckUpwards.in({7, 2, 13}));
  EXPECT_TRUE(changes::kEpLoopCheckUpwards.in({6, 1, 149}));
  EXPECT_TRUE(changes::kEpLoopCheckUpwards.in({6, 12, 117}));
  EXPECT_FALSE(changes::kEpLoopCheckUpwards.in({6, 1, 148}));
  EXPECT_FALSE(changes::kEpLoopCheckUpwards.in({6, 2, 149}));  // another series: not backported there
  EXPECT_FALSE(changes::kEpLoopCheckUpwards.in({6, 16, 200}));
  EXPECT_FALSE(changes::kEpLoopCheckUpwards.in({5, 10, 262}));
}

TEST(KernelProfile, Debian510HasThePipeWakeBackports) {
  // 5.10.56 "pipe: make pipe writes always wake up readers", 5.10.62 "pipe: avoid
  // unnecessary EPOLLET wakeups under normal loads" (Debian 5.10.262 changelog); the
  // 5.10.262 guest passes pipe/et-reader-woken-by-every-write.trace.
  EXPECT_EQ(KernelProfile::for_version({5, 10, 0}).pipe_reader_wake, model::PipeReaderWake::kOnlyWhenEmpty);
  EXPECT_EQ(KernelProfile::for_version({5, 10, 56}).pipe_reader_wake, model::PipeReaderWake::kAlways);
  EXPECT_EQ(KernelProfile::for_version({5, 10, 262}).pipe_reader_wake, model::PipeReaderWake::kWhenEmptyOrPolled);
  EXPECT_EQ(KernelProfile::for_version({5, 13, 0}).pipe_reader_wake, model::PipeReaderWake::kOnlyWhenEmpty);
}

TEST(KernelProfile, SwitchesOfTheMatrixKernels) {
  const KernelProfile k510 = KernelProfile::for_version({5, 10, 262});
  const KernelProfile k61 = KernelProfile::for_version({6, 1, 192});
  const KernelProfile k612 = KernelProfile::for_version({6, 12, 117});
  EXPECT_FALSE(k510.has_epoll_pwait2);
  EXPECT_TRUE(k61.has_epoll_pwait2);
  EXPECT_FALSE(k61.efd_write_exact_size);
  EXPECT_TRUE(k612.efd_write_exact_size);
  EXPECT_FALSE(k510.ep_loop_check_upwards);
  EXPECT_TRUE(k61.ep_loop_check_upwards);
  EXPECT_TRUE(k612.ep_loop_check_upwards);
  EXPECT_FALSE(k612.ep_wait_checks_fd_first);
  // "net: restrict SO_REUSEPORT to inet sockets": 6.13, in Debian's 6.1.124 and 6.12.9
  // changelogs, not in 5.10's (the 5.10.262 guest takes SO_REUSEPORT on an AF_UNIX socket).
  EXPECT_FALSE(k510.reuseport_inet_only);
  EXPECT_TRUE(k61.reuseport_inet_only);
  EXPECT_TRUE(k612.reuseport_inet_only);
  EXPECT_FALSE(KernelProfile::for_version({6, 1, 123}).reuseport_inet_only);
  EXPECT_FALSE(KernelProfile::for_version({6, 12, 8}).reuseport_inet_only);
  // "udp: refine __udp_enqueue_schedule_skb() test" (6.18; no backport in the guests'
  // changelogs): 5.10.262, 6.1.192 and 6.12.117 take one datagram more into a full queue.
  EXPECT_FALSE(k612.udp_accept_only_into_empty);
  EXPECT_TRUE(KernelProfile::for_version({6, 18, 0}).udp_accept_only_into_empty);
}

TEST(KernelVersion, FromUnameTakesDebiansPackageVersion) {
  EXPECT_EQ(KernelVersion::from_uname("6.1.0-57-cloud-amd64", "#1 SMP PREEMPT_DYNAMIC Debian 6.1.192-3 (2026-10-01)"),
            (KernelVersion{6, 1, 192}));
  EXPECT_EQ(KernelVersion::from_uname("7.2.13+deb14-cloud-amd64", "#1 SMP PREEMPT_DYNAMIC Debian 7.2.13-1 (2026-10-28)"),
            (KernelVersion{7, 2, 13}));
  EXPECT_EQ(KernelVersion::from_uname("5.10.0-46-cloud-amd64", "#1 SMP Debian 5.10.262-1 (2026-07-31)"),
            (KernelVersion{5, 10, 262}));
  EXPECT_EQ(KernelVersion::from_uname("6.18.44-fc-v857", "#1 SMP PREEMPT_DYNAMIC Mon Nov 3 2026"),
            (KernelVersion{6, 18, 44}));
  EXPECT_FALSE(KernelVersion::from_uname("weird", "#1 SMP").has_value());
}

TEST(GuestWire, RunResultRoundTrip) {
  eo::RunResult r;
  eo::StepObservation s;
  s.outcome.kind = eo::Outcome::Kind::kValue;
  s.outcome.ret = 3;
  s.outcome.fds = {3, 4};
  s.outcome.events = {{"r", 0x1}, {"w", 0x4}};
  s.returned.push_back({"t1", {eo::Outcome::Kind::kValue, 8, {}, {}, {8, 5}}, 2});  // an mq_receive's [8, 5]
  s.still_blocked = {"t2"};
  r.steps = {s, eo::StepObservation{}};
  r.error = "stopped";
  r.stopped_at = 1;
  const eo::RunResult back = eo::run_from_json(nlohmann::json::parse(eo::to_json(r).dump()));
  ASSERT_EQ(back.steps.size(), 2u);
  EXPECT_EQ(back.steps[0].outcome, s.outcome);
  EXPECT_EQ(back.steps[0].returned, s.returned);
  EXPECT_EQ(back.steps[0].still_blocked, s.still_blocked);
  EXPECT_EQ(back.error, "stopped");
  EXPECT_EQ(back.stopped_at, 1);
  EXPECT_THROW(eo::run_from_json(nlohmann::json::parse(R"({"steps": [{"outcome": {"kind": 9}}]})")), nlohmann::json::exception);
}

TEST(GuestWire, CalibrationBecomesTheGuestsProfile) {
  real::Calibration c;
  c.page_size = 4096;
  c.pipe_def_buffers = 16;
  c.max_user_watches = 12345;
  c.unix_max_dgram_qlen = 10;
  c.rlimit_nofile = 20000;
  c.nr_open = 1 << 20;
  c.nr_cpus = 2;
  c.config = {"/boot/config-x", true, "full"};
  c.af_unix = {212992, 256, 320, 32768};
  c.samples = {{1, 1, 768}};
  c.tcp = {.wmem_default = 16384, .wmem_max = 4194304, .rmem_default = 131072, .rmem_max = 6291456, .somaxconn = 4096,
           .core_wmem_max = 212992, .core_rmem_max = 212992, .fill_total = 3932160, .rcv_capacity = 2621440,
           .snd_capacity = 1310720, .sndbuf_settled = 2626560};
  c.udp = {.rmem_default = 212992, .wmem_default = 212992, .steps = {{0, 832}, {198, 1280}}, .paged_from = 16005,
           .paged_extra = 832};
  c.mqueue = {.msg_max = 12, .msgsize_max = 9000, .queues_max = 300, .msg_default = 11, .msgsize_default = 8000,
              .cap_sys_resource = true};
  real::SocketpairErrnos families(2);
  families[1].fill(0);
  const real::Calibration back = eo::calibration_from_json(nlohmann::json::parse(eo::to_json(c).dump()));
  const auto table = eo::families_table(eo::families_from_json(nlohmann::json::parse(eo::to_json(families).dump())));
  const KernelProfile p = eo::measured_profile({6, 1, 192}, back, table);
  EXPECT_EQ(p.max_user_watches, 12345);
  EXPECT_EQ(p.rlimit_nofile, 20000);
  EXPECT_EQ(p.preempt, model::Preempt::kFull);
  EXPECT_TRUE(p.config_watch_queue);
  EXPECT_EQ(p.unix_cal.shinfo_size, 320);
  EXPECT_TRUE(p.tcp_cal.measured);  // the guest's TCP calibration reaches its profile
  EXPECT_EQ(p.tcp_cal.somaxconn, 4096);
  EXPECT_EQ(p.tcp_cal.rcv_capacity, 2621440);
  EXPECT_EQ(p.tcp_cal.sndbuf_settled, 2626560);
  EXPECT_TRUE(p.udp_cal.measured);  // and its UDP calibration
  EXPECT_EQ(p.udp_cal.steps, (std::vector<std::pair<int, int>>{{0, 832}, {198, 1280}}));
  EXPECT_EQ(p.udp_cal.paged_from, 16005);
  EXPECT_EQ(p.mqueue.msg_max, 12);  // and its message queue limits (a guest's root has CAP_SYS_RESOURCE)
  EXPECT_EQ(p.mqueue.msgsize_default, 8000);
  EXPECT_TRUE(p.mqueue.cap_sys_resource);
  EXPECT_FALSE(p.efd_write_exact_size);  // the version's switches stay
  EXPECT_EQ(p.other_family_socketpair(1, 1), 0);
  EXPECT_EQ(p.other_family_socketpair(0, 1), families[0][1]);
  EXPECT_EQ(p.other_family_socketpair(40, 1), EAFNOSUPPORT);  // beyond the guest's table
}

// Reads a newc archive back: name -> (mode, data); fails the test on a malformed entry.
std::map<std::string, std::pair<unsigned, std::string>> read_newc(const std::string& a) {
  std::map<std::string, std::pair<unsigned, std::string>> out;
  size_t at = 0;
  auto field = [&](size_t i) { return static_cast<unsigned>(std::stoul(a.substr(at + 6 + 8 * i, 8), nullptr, 16)); };
  while (at + 110 <= a.size()) {
    EXPECT_EQ(a.substr(at, 6), "070701");
    const unsigned mode = field(1), size = field(6), namesize = field(11);
    const std::string name = a.substr(at + 110, namesize - 1);
    EXPECT_EQ(a[at + 110 + namesize - 1], '\0');
    size_t data = at + 110 + namesize;
    data += (4 - data % 4) % 4;
    if (name == "TRAILER!!!") return out;
    out[name] = {mode, a.substr(data, size)};
    at = data + size;
    at += (4 - at % 4) % 4;
  }
  ADD_FAILURE() << "no trailer";
  return out;
}

TEST(Initramfs, NewcEntriesAlignedWithTrailer) {
  std::ostringstream os;
  eo::CpioWriter w(os);
  w.directory("bin");
  w.file("bin/x", "hello", 0755);
  w.file("abc", std::string(7, 'z'));
  w.finish();
  const std::string a = os.str();
  EXPECT_EQ(a.size() % 4, 0u);
  const auto entries = read_newc(a);
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(entries.at("bin").first, 040755u);
  EXPECT_EQ(entries.at("bin/x").first, 0100755u);
  EXPECT_EQ(entries.at("bin/x").second, "hello");
  EXPECT_EQ(entries.at("abc").second, std::string(7, 'z'));
}

TEST(Initramfs, SharedLibrariesOfADynamicExecutable) {
  std::string error;
  const std::vector<std::string> libs = eo::shared_libraries("/bin/sh", &error);
  EXPECT_TRUE(error.empty()) << error;
  bool loader = false, libc = false;
  for (const std::string& l : libs) {
    loader = loader || l.find("ld-linux") != std::string::npos;
    libc = libc || l.find("libc.so") != std::string::npos;
  }
  EXPECT_TRUE(loader);
  EXPECT_TRUE(libc);
}

TEST(QemuGuest, TailLines) {
  EXPECT_EQ(eo::tail_lines("a\nb\nc\n", 2), "b\nc\n");
  EXPECT_EQ(eo::tail_lines("a\nb\nc", 1), "c");
  EXPECT_EQ(eo::tail_lines("abc", 5), "abc");
  EXPECT_EQ(eo::tail_lines("", 5), "");
}

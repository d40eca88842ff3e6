// real/calibrate on this machine's kernel, and the model run with the calibrated
// constants against the same kernel: every expected value below is measured on the
// running kernel, never written in.
#include <dirent.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <fcntl.h>
#include <mqueue.h>
#include <sys/syscall.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "model/af_unix.h"
#include "model_fixture.h"
#include "real/calibrate.h"
#include "real/fd.h"

namespace {

using eo_test::ModelSys;

model::KernelProfile profile_from(const real::Calibration& c) {
  model::KernelProfile p;
  p.page_size = c.page_size;
  p.pipe_def_buffers = c.pipe_def_buffers;
  p.max_user_watches = c.max_user_watches;
  p.unix_cal.sndbuf = c.af_unix.sndbuf;
  p.unix_cal.sk_buff_size = c.af_unix.sk_buff_size;
  p.unix_cal.shinfo_size = c.af_unix.shinfo_size;
  p.unix_cal.frags_size = c.af_unix.frags_size;
  p.unix_cal.max_dgram_qlen = c.unix_max_dgram_qlen;
  p.unix_cal.measured = true;
  p.rlimit_nofile = c.rlimit_nofile;
  p.nr_open = c.nr_open;
  p.mqueue = {c.mqueue.msg_max,     c.mqueue.msgsize_max,     c.mqueue.queues_max,
              c.mqueue.msg_default, c.mqueue.msgsize_default, c.mqueue.cap_sys_resource};
  p.config_watch_queue = c.config.watch_queue;
  p.other_family_socketpair = real::probe_socketpair;
  return p;
}

// sk_wmem_alloc - 1 after one fully queued write of len bytes, as the model computes it:
// the skbs unix_max_skb_payload cuts, each of unix_skb_truesize.
long model_write_truesize(const model::KernelProfile& p, long len) {
  const int cap = model::unix_max_skb_payload(p.unix_cal, p.page_size, p.unix_cal.sndbuf);
  long total = 0;
  while (len > 0) {
    const int size = static_cast<int>(std::min<long>(len, cap));
    total += model::unix_skb_truesize(p.unix_cal, p.page_size, size);
    len -= size;
  }
  return total;
}

// The model's SIOCOUTQ of a socket: sk_wmem_alloc - 1 (unix_outq_len).
long model_outq(ModelSys& s, int fd) {
  auto* f = dynamic_cast<model::UnixSocketFile*>(s.k.fdtable().fget(fd));
  return f ? f->sk->wmem_alloc - 1 : -1;
}

struct RealPair {
  real::Fd a, b;
  RealPair() {
    int sv[2] = {-1, -1};
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) == 0) {
      a.reset(sv[0]);
      b.reset(sv[1]);
    }
  }
};

long real_outq(int fd) {
  int v = -1;
  return ::ioctl(fd, SIOCOUTQ, &v) == 0 ? v : -errno;
}

long real_write(int fd, const std::vector<char>& buf, size_t n) {
  const ssize_t r = ::write(fd, buf.data(), n);
  return r < 0 ? -errno : r;
}

// Reads exactly n bytes (they are all queued already); false on a short read.
bool real_read_exactly(int fd, std::vector<char>& buf, long n) {
  while (n > 0) {
    const ssize_t r = ::read(fd, buf.data(), std::min<size_t>(buf.size(), static_cast<size_t>(n)));
    if (r <= 0) return false;
    n -= r;
  }
  return true;
}

int count_open_fds() {
  int n = 0;
  DIR* d = ::opendir("/proc/self/fd");
  if (!d) return -1;
  while (const dirent* e = ::readdir(d)) {
    if (e->d_name[0] != '.') ++n;
  }
  ::closedir(d);
  return n;
}

class Calibration : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    cal_ = real::calibrate(&error_);
    if (cal_) profile_ = profile_from(*cal_);
  }
  static inline std::optional<real::Calibration> cal_;
  static inline std::string error_;
  static inline model::KernelProfile profile_;
};

// (a) The fit is unique on this kernel and gives the model's defaults, which are the
// x86-64 6.18 values; max_user_watches depends on the machine's memory and is printed.
TEST_F(Calibration, SucceedsAndMatchesModelDefaults) {
  ASSERT_TRUE(cal_.has_value()) << error_;
  const real::Calibration& c = *cal_;
  std::cout << "page_size " << c.page_size << ", pipe capacity " << c.pipe_capacity << " (" << c.pipe_def_buffers
            << " buffers), max_user_watches " << c.max_user_watches << "\n"
            << "AF_UNIX: sndbuf " << c.af_unix.sndbuf << ", sk_buff_size " << c.af_unix.sk_buff_size
            << ", shinfo_size " << c.af_unix.shinfo_size << ", frags_size " << c.af_unix.frags_size << " (from "
            << c.samples.size() << " samples)\n";
  const model::UnixCalibration def{};
  EXPECT_EQ(c.af_unix.sndbuf, def.sndbuf);
  EXPECT_EQ(c.af_unix.sk_buff_size, def.sk_buff_size);
  EXPECT_EQ(c.af_unix.shinfo_size, def.shinfo_size);
  EXPECT_EQ(c.af_unix.frags_size, def.frags_size);
  EXPECT_EQ(c.unix_max_dgram_qlen, def.max_dgram_qlen) << "unix_net_init's default";
  const model::KernelProfile defp{};
  EXPECT_EQ(c.page_size, defp.page_size);
  EXPECT_EQ(c.pipe_def_buffers, defp.pipe_def_buffers);
  EXPECT_EQ(c.pipe_capacity, c.pipe_def_buffers * c.page_size);
  EXPECT_GT(c.max_user_watches, 0);
  if (c.max_user_watches != defp.max_user_watches)
    std::cout << "note: max_user_watches " << c.max_user_watches << " here, model default "
              << defp.max_user_watches << "\n";
  // Every sample is reproduced by the model's rules with the fitted constants.
  ASSERT_EQ(c.samples.size(), real::unix_sample_sizes().size());
  for (const real::UnixSample& s : c.samples) {
    EXPECT_EQ(s.written, s.requested) << "sndbuf " << c.af_unix.sndbuf << " holds every sample";
    EXPECT_EQ(model_write_truesize(profile_, s.written), s.outq) << "write of " << s.written;
  }
}

// (b) For every write size 1..70000 on a drained real socketpair, SIOCOUTQ equals the
// model: both the sum over the skbs it cuts and sk_wmem_alloc - 1 after its own send path.
TEST_F(Calibration, ModelPredictsOutqOfEveryWriteUpTo70000) {
  ASSERT_TRUE(cal_.has_value()) << error_;
  constexpr int kMax = 70000;
  std::vector<char> buf(kMax, 'x');
  RealPair r;
  ASSERT_TRUE(r.a.valid()) << std::strerror(errno);
  ModelSys m(profile_);
  auto [ma, mb] = m.socketpair();
  int formula_bad = 0, path_bad = 0;
  for (int n = 1; n <= kMax; ++n) {
    ASSERT_EQ(real_write(r.a.get(), buf, static_cast<size_t>(n)), n);
    const long kernel = real_outq(r.a.get());
    ASSERT_TRUE(real_read_exactly(r.b.get(), buf, n)) << n;
    ASSERT_EQ(real_outq(r.a.get()), 0) << "not drained after " << n;

    const long formula = model_write_truesize(profile_, n);
    ASSERT_EQ(m.k.write(m.main(), ma, buf.data(), static_cast<size_t>(n)), n);
    const long path = model_outq(m, ma);
    ASSERT_EQ(m.k.read(m.main(), mb, buf.data(), static_cast<size_t>(n)), n);
    ASSERT_EQ(model_outq(m, ma), 0);

    if (formula != kernel && ++formula_bad <= 10)
      ADD_FAILURE() << "write " << n << ": kernel SIOCOUTQ " << kernel << ", model rules " << formula;
    if (path != kernel && ++path_bad <= 10)
      ADD_FAILURE() << "write " << n << ": kernel SIOCOUTQ " << kernel << ", model send path " << path;
  }
  EXPECT_EQ(formula_bad, 0);
  EXPECT_EQ(path_bad, 0);
  std::cout << "checked " << kMax << " write sizes: " << formula_bad << " mismatches (rules), " << path_bad
            << " (send path)\n";
}

// (c) Filling a fresh nonblocking socketpair until EAGAIN: the same writes succeed with
// the same byte counts, the same total, and the same SIOCOUTQ at the end.
TEST_F(Calibration, FillMatchesModel) {
  ASSERT_TRUE(cal_.has_value()) << error_;
  for (size_t chunk : {size_t{1}, size_t{4096}, size_t{65536}, size_t{100000}}) {
    SCOPED_TRACE("chunk " + std::to_string(chunk));
    std::vector<char> buf(chunk, 'x');

    RealPair r;
    ASSERT_TRUE(r.a.valid()) << std::strerror(errno);
    std::vector<long> kernel_writes;
    long last = 0;
    while ((last = real_write(r.a.get(), buf, chunk)) > 0) kernel_writes.push_back(last);
    EXPECT_EQ(last, -EAGAIN);
    const long kernel_outq = real_outq(r.a.get());

    ModelSys m(profile_);
    auto [ma, mb] = m.socketpair();
    std::vector<long> model_writes;
    while ((last = m.k.write(m.main(), ma, buf.data(), chunk)) > 0) model_writes.push_back(last);
    EXPECT_EQ(last, -EAGAIN);
    (void)mb;

    long kernel_total = 0;
    for (long w : kernel_writes) kernel_total += w;
    ModelSys f(profile_);
    auto [fa, fb] = f.socketpair();
    (void)fb;
    const long model_total = f.fill(fa, chunk);

    EXPECT_EQ(model_total, kernel_total);
    EXPECT_EQ(model_writes, kernel_writes);
    EXPECT_EQ(model_outq(m, ma), kernel_outq);
    std::cout << "fill chunk " << chunk << ": kernel " << kernel_total << " bytes in " << kernel_writes.size()
              << " writes (last " << (kernel_writes.empty() ? 0 : kernel_writes.back()) << "), SIOCOUTQ "
              << kernel_outq << "; model " << model_total << ", SIOCOUTQ " << model_outq(m, ma) << "\n";
  }
}

// (d) Calibration closes every descriptor it opens.
TEST_F(Calibration, LeaksNoDescriptors) {
  const int before = count_open_fds();
  ASSERT_GT(before, 0);
  for (int i = 0; i < 100; ++i) {
    std::string error;
    ASSERT_TRUE(real::calibrate(&error).has_value()) << error;
  }
  EXPECT_EQ(count_open_fds(), before);
}

// The fit refuses to guess: the kernel's 1-byte sample alone fits several candidates,
// and a sample that no candidate explains (the kernel's 1-byte sample with 64 bytes
// added to its SIOCOUTQ) fits none.
TEST_F(Calibration, FitRefusesAmbiguousOrInconsistentSamples) {
  ASSERT_TRUE(cal_.has_value()) << error_;
  const real::Calibration& c = *cal_;
  std::vector<real::UnixSample> one;
  for (const real::UnixSample& s : c.samples)
    if (s.requested == 1) one.push_back(s);
  ASSERT_EQ(one.size(), 1u);
  std::string error;
  EXPECT_FALSE(real::fit_unix(c.af_unix.sndbuf, c.page_size, one, &error).has_value());
  EXPECT_NE(error.find("ambiguous"), std::string::npos) << error;
  std::cout << error << "\n";

  std::vector<real::UnixSample> bad = c.samples;
  for (real::UnixSample& s : bad)
    if (s.requested == 1) s.outq += 64;
  error.clear();
  EXPECT_FALSE(real::fit_unix(c.af_unix.sndbuf, c.page_size, bad, &error).has_value());
  EXPECT_NE(error.find("no AF_UNIX constants"), std::string::npos) << error;
  std::cout << error << "\n";

  error.clear();
  const auto again = real::fit_unix(c.af_unix.sndbuf, c.page_size, c.samples, &error);
  ASSERT_TRUE(again.has_value()) << error;
  EXPECT_EQ(*again, c.af_unix);
}

// The descriptor limits are the process's: RLIMIT_NOFILE's soft limit and fs.nr_open.
TEST_F(Calibration, FdLimitsAreTheProcesss) {
  ASSERT_TRUE(cal_.has_value()) << error_;
  rlimit rl{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &rl), 0);
  EXPECT_EQ(cal_->rlimit_nofile, static_cast<long>(rl.rlim_cur));
  std::ifstream in("/proc/sys/fs/nr_open");
  long nr_open = 0;
  ASSERT_TRUE(in >> nr_open);
  EXPECT_EQ(cal_->nr_open, nr_open);
  EXPECT_LE(cal_->rlimit_nofile, cal_->nr_open);
}

// The mqueue limits are the sysctls, and the capability read from CapEff is the one the
// kernel applies: a queue one message above msg_max is created exactly with it
// (mqueue_get_inode).
TEST_F(Calibration, MqueueLimitsAreTheOnesTheKernelApplies) {
  ASSERT_TRUE(cal_.has_value()) << error_;
  std::ifstream in("/proc/sys/fs/mqueue/msg_max");
  long msg_max = 0;
  ASSERT_TRUE(in >> msg_max);
  EXPECT_EQ(cal_->mqueue.msg_max, msg_max);
  const std::string name = "eo-calibration-" + std::to_string(getpid());
  mq_attr attr{};
  attr.mq_maxmsg = cal_->mqueue.msg_max + 1;
  attr.mq_msgsize = 1;
  const long fd = syscall(SYS_mq_open, name.c_str(), O_RDWR | O_CREAT | O_EXCL, 0600, &attr);
  const int err = errno;
  if (fd >= 0) {
    close(static_cast<int>(fd));
    syscall(SYS_mq_unlink, name.c_str());
  }
  EXPECT_EQ(fd >= 0, cal_->mqueue.cap_sys_resource) << std::strerror(err);
  if (fd < 0) {
    EXPECT_EQ(err, EINVAL);
  }
}

// The config says CONFIG_WATCH_QUEUE exactly when the kernel makes a notification pipe
// (create_pipe_files: ENOPKG without it).
TEST_F(Calibration, WatchQueueConfigMatchesTheKernel) {
  ASSERT_TRUE(cal_.has_value()) << error_;
  ASSERT_FALSE(cal_->config.source.empty()) << "no /proc/config.gz or /boot/config-RELEASE here";
  int fds[2] = {-1, -1};
  const int r = ::pipe2(fds, 0x80 | O_CLOEXEC);  // O_NOTIFICATION_PIPE
  const int e = errno;
  if (r == 0) {
    real::Fd a(fds[0]), b(fds[1]);
  } else {
    EXPECT_EQ(e, ENOPKG) << std::strerror(e);
  }
  std::cout << "config " << cal_->config.source << ": CONFIG_WATCH_QUEUE " << (cal_->config.watch_queue ? "y" : "not set")
            << "\n";
  EXPECT_EQ(cal_->config.watch_queue, r == 0);
}

TEST(KernelConfigText, OnlyAnExactYLineEnables) {
  EXPECT_TRUE(real::config_enabled("CONFIG_WATCH_QUEUE=y\n", "CONFIG_WATCH_QUEUE"));
  EXPECT_TRUE(real::config_enabled("CONFIG_A=y\nCONFIG_WATCH_QUEUE=y", "CONFIG_WATCH_QUEUE"));
  EXPECT_FALSE(real::config_enabled("# CONFIG_WATCH_QUEUE is not set\n", "CONFIG_WATCH_QUEUE"));
  EXPECT_FALSE(real::config_enabled("CONFIG_WATCH_QUEUE=m\n", "CONFIG_WATCH_QUEUE"));
  EXPECT_FALSE(real::config_enabled("CONFIG_WATCH_QUEUE_X=y\n", "CONFIG_WATCH_QUEUE"));
  EXPECT_FALSE(real::config_enabled("XCONFIG_WATCH_QUEUE=y\n", "CONFIG_WATCH_QUEUE"));
}

// socketpair with the calibrated profile answers as the kernel does, for every family from
// -1 to 50 and every type 0..15 (AF_UNIX's datagram types, which the model does not
// have yet, and calls that make a pair aside).
TEST_F(Calibration, SocketpairOfEveryFamilyMatchesTheKernel) {
  ASSERT_TRUE(cal_.has_value()) << error_;
  int compared = 0;
  for (int family = -1; family <= 50; ++family) {
    for (int type = 0; type < 16; ++type) {
      if (family == model::AF_UNIX_ && (type == 2 || type == 3 || type == 5)) continue;
      int sv[2] = {-1, -1};
      const int r = ::socketpair(family, type | SOCK_CLOEXEC, 0, sv);
      const int e = r == 0 ? 0 : errno;
      if (r == 0) {
        real::Fd a(sv[0]), b(sv[1]);
        if (family != model::AF_UNIX_) continue;
      }
      ModelSys s(profile_);
      int msv[2] = {-1, -1};
      const long m = s.k.socketpair(s.main(), family, type | model::SOCK_CLOEXEC_, 0, msv);
      EXPECT_EQ(m, r == 0 ? 0 : -e) << "socketpair(" << family << ", " << type << ")";
      ++compared;
    }
  }
  std::cout << compared << " (family, type) pairs compared\n";
}

}  // namespace

namespace {

// The TCP constants measured here are the model's defaults (this machine, 6.18.44), and a
// second measurement gives the same fill (the model's capacities are not a lucky draw).
TEST(TcpCalibration, MeasuredConstantsAreTheModelDefaults) {
  std::string error;
  auto c = real::measure_tcp(&error);
  ASSERT_TRUE(c.has_value()) << error;
  std::cout << "TCP: fill " << c->fill_total << " = reader " << c->rcv_capacity << " + writer " << c->snd_capacity
            << ", SO_SNDBUF " << c->sndbuf_settled << "\n";
  const model::TcpCalibration def{};
  EXPECT_EQ(c->wmem_default, def.wmem_default);
  EXPECT_EQ(c->rmem_default, def.rmem_default);
  EXPECT_EQ(c->rmem_max, def.rmem_max);
  EXPECT_EQ(c->somaxconn, def.somaxconn);
  EXPECT_EQ(c->core_wmem_max, def.core_wmem_max);
  EXPECT_EQ(c->core_rmem_max, def.core_rmem_max);
  EXPECT_EQ(c->wmem_max, def.wmem_max);
  EXPECT_EQ(c->rcv_capacity, def.rcv_capacity);
  EXPECT_EQ(c->snd_capacity, def.snd_capacity);
  EXPECT_EQ(c->fill_total, c->rcv_capacity + c->snd_capacity);
  auto again = real::measure_tcp(&error);
  ASSERT_TRUE(again.has_value()) << error;
  EXPECT_EQ(again->fill_total, c->fill_total);
}

}  // namespace

namespace {

// The UDP constants measured here are the model's defaults (this machine, 6.18.44).
TEST(UdpCalibration, MeasuredConstantsAreTheModelDefaults) {
  std::string error;
  auto c = real::measure_udp(&error);
  ASSERT_TRUE(c.has_value()) << error;
  const model::UdpCalibration def{};
  EXPECT_EQ(c->rmem_default, def.rmem_default);
  EXPECT_EQ(c->wmem_default, def.wmem_default);
  EXPECT_EQ(c->steps, def.steps);
  EXPECT_EQ(c->paged_from, def.paged_from);
  EXPECT_EQ(c->paged_extra, def.paged_extra);
}

// How many datagrams of each size a receiver with the default buffer keeps out of 300
// sent, on the kernel and on the model (the calibrated truesize against the kernel's).
long kernel_udp_kept(int len) {
  real::Fd r(::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  real::Fd w(::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t alen = sizeof a;
  if (::bind(r.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::getsockname(r.get(), reinterpret_cast<sockaddr*>(&a), &alen) != 0 ||
      ::connect(w.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0)
    return -1;
  std::vector<char> buf(65536, 'x');
  for (int i = 0; i < 300; ++i) {
    if (::write(w.get(), buf.data(), static_cast<size_t>(len)) != len) return -1;
  }
  ::usleep(20000);  // loopback delivers in the sender's softirq; a deferred one has time
  long kept = 0;
  while (::read(r.get(), buf.data(), buf.size()) >= 0) ++kept;
  return kept;
}

TEST(UdpCalibration, ModelKeepsAsManyDatagramsAsTheKernel) {
  for (int len : {1, 197, 198, 1000, 3000, 8000, 16004, 16005, 40000, 65507}) {
    eo_test::ModelSys s;
    const int r = static_cast<int>(s.k.socket(s.main(), model::AF_INET_, model::SOCK_DGRAM_ | model::SOCK_NONBLOCK_, 0));
    const int w = static_cast<int>(s.k.socket(s.main(), model::AF_INET_, model::SOCK_DGRAM_ | model::SOCK_NONBLOCK_, 0));
    ASSERT_EQ(s.k.bind(s.main(), r, {model::AF_INET_, 0, 0, 0, 127, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0}), 0);
    std::vector<uint8_t> addr;
    s.k.getsockname(s.main(), r, &addr);
    ASSERT_EQ(s.k.connect(s.main(), w, addr), 0);
    for (int i = 0; i < 300; ++i) ASSERT_EQ(s.write(w, static_cast<size_t>(len)), len);
    long kept = 0;
    while (s.read(r, 65536) >= 0) ++kept;
    const long kernel = kernel_udp_kept(len);
    std::cout << "UDP " << len << " B: model keeps " << kept << ", kernel " << kernel << "\n";
    EXPECT_EQ(kept, kernel) << len;
  }
}

}  // namespace

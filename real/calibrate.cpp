#include "calibrate.h"

#include <fcntl.h>
#include <linux/sock_diag.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>

#include "fd.h"
#include "net_rest.h"

namespace real {

namespace {

int align_up(int x, int a) { return (x + a - 1) / a * a; }

// mm/slab_common.c kmalloc_size_roundup for the kmalloc caches: small buckets, then powers of 2.
int kmalloc_size_roundup(int size) {
  for (int b : {8, 16, 32, 64, 96, 128, 192, 256}) {
    if (size <= b) return b;
  }
  int b = 512;
  while (b < size) b <<= 1;
  return b;
}

bool fail(std::string* error, const std::string& what) {
  if (error) *error = what;
  return false;
}

// Call right after the failed call: errno is read before anything else can change it.
bool fail_errno(std::string* error, const char* what) {
  const int e = errno;
  return fail(error, std::string(what) + ": " + std::strerror(e));
}

// The candidates of the fit. sk_buff and skb_shared_info sizes are SKB_DATA_ALIGNed
// (SMP_CACHE_BYTES, 64 on x86-64); UNIX_SKB_FRAGS_SZ is PAGE_SIZE << get_order(32768).
constexpr int kSkbSizes[] = {192, 256, 320, 384, 448, 512};
constexpr int kShinfoSizes[] = {256, 320, 384, 448};
constexpr int kFragsSizes[] = {16384, 32768, 65536};

constexpr int kSampleSizes[] = {
    // kmalloc bucket edges of the linear head, align(h, 64) + shinfo > 512/1024/2048,
    // for shinfo 448, 384, 320, 256:
    1, 64, 65, 128, 129, 192, 193, 256, 257,
    576, 577, 640, 641, 704, 705, 768, 769,
    1600, 1601, 1664, 1665, 1728, 1729, 1792, 1793,
    // SKB_MAX_HEAD(0) = PAGE_SIZE - shinfo, and the first bytes past it:
    3648, 3649, 3712, 3713, 3776, 3777, 3840, 3841, 4096, 4097,
    // a page of frags plus a head on each bucket edge (shinfo 320):
    4288, 4289, 8192,
    // per-skb payload limit PAGE_SIZE - shinfo + UNIX_SKB_FRAGS_SZ for 16K/32K/64K frags:
    20160, 20161, 36544, 36545, 65536, 69312, 69313,
    // several skbs in one write:
    120000,
};

// unix_ioctl SIOCOUTQ -> unix_outq_len: sk_wmem_alloc - 1 for a stream socket.
bool outq(int fd, int* v, std::string* error) {
  if (::ioctl(fd, SIOCOUTQ, v) != 0) return fail_errno(error, "ioctl(SIOCOUTQ)");
  return true;
}

bool make_pair(Fd& a, Fd& b, std::string* error) {
  int sv[2] = {-1, -1};
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) != 0)
    return fail_errno(error, "socketpair(AF_UNIX, SOCK_STREAM|SOCK_NONBLOCK|SOCK_CLOEXEC)");
  a.reset(sv[0]);
  b.reset(sv[1]);
  return true;
}

std::string describe(const UnixConstants& c) {
  std::ostringstream os;
  os << "(sk_buff_size " << c.sk_buff_size << ", shinfo_size " << c.shinfo_size << ", frags_size " << c.frags_size
     << ")";
  return os.str();
}

bool measure_pipe(int page_size, Calibration& cal, std::string* error) {
  int p[2] = {-1, -1};
  if (::pipe2(p, O_CLOEXEC) != 0) return fail_errno(error, "pipe2");
  Fd r(p[0]), w(p[1]);
  const int cap = ::fcntl(w.get(), F_GETPIPE_SZ);
  if (cap < 0) return fail_errno(error, "fcntl(F_GETPIPE_SZ)");
  if (cap % page_size != 0)
    return fail(error, "pipe capacity " + std::to_string(cap) + " is not a multiple of the page size");
  cal.pipe_capacity = cap;
  cal.pipe_def_buffers = cap / page_size;  // fs/pipe.c alloc_pipe_info: PIPE_DEF_BUFFERS slots of a page
  return true;
}

// A sysctl holding one number; `min` is the smallest value it may have.
bool read_sysctl(const char* path, long min, long* out, std::string* error) {
  std::ifstream in(path);  // closes on every path
  long v = -1;
  if (!(in >> v) || v < min) return fail(error, std::string("cannot read ") + path);
  *out = v;
  return true;
}

// RLIMIT_NOFILE's soft limit is the process's descriptor limit (get_unused_fd_flags);
// fs.nr_open bounds it (and any table) from above.
bool read_fd_limits(Calibration& cal, std::string* error) {
  std::ifstream in("/proc/sys/fs/nr_open");
  long nr_open = -1;
  if (!(in >> nr_open) || nr_open <= 0) return fail(error, "cannot read /proc/sys/fs/nr_open");
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return fail_errno(error, "getrlimit(RLIMIT_NOFILE)");
  cal.nr_open = nr_open;
  cal.rlimit_nofile = rl.rlim_cur == RLIM_INFINITY ? nr_open : static_cast<long>(std::min<rlim_t>(rl.rlim_cur, LONG_MAX));
  return true;
}

// /proc/sys/fs/mqueue and CAP_SYS_RESOURCE (24) in CapEff.
bool read_mqueue_limits(MqueueSysctls& m, std::string* error) {
  const std::pair<const char*, long*> sysctls[] = {{"/proc/sys/fs/mqueue/msg_max", &m.msg_max},
                                                   {"/proc/sys/fs/mqueue/msgsize_max", &m.msgsize_max},
                                                   {"/proc/sys/fs/mqueue/queues_max", &m.queues_max},
                                                   {"/proc/sys/fs/mqueue/msg_default", &m.msg_default},
                                                   {"/proc/sys/fs/mqueue/msgsize_default", &m.msgsize_default}};
  for (const auto& [path, out] : sysctls) {
    if (!read_sysctl(path, 0, out, error)) return false;
  }
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("CapEff:", 0) != 0) continue;
    const unsigned long long caps = std::stoull(line.substr(7), nullptr, 16);
    m.cap_sys_resource = (caps >> 24) & 1;
    return true;
  }
  return fail(error, "no CapEff in /proc/self/status");
}

// The whole of a gzip file, or nullopt.
std::optional<std::string> read_gzip(const char* path) {
  gzFile f = gzopen(path, "rb");
  if (!f) return std::nullopt;
  std::string text;
  char buf[65536];
  int n = 0;
  while ((n = gzread(f, buf, sizeof buf)) > 0) text.append(buf, static_cast<size_t>(n));
  const bool ok = n == 0;
  gzclose(f);
  if (!ok) return std::nullopt;
  return text;
}

}  // namespace

bool config_enabled(const std::string& text, const std::string& name) {
  const std::string line = name + "=y";
  for (size_t pos = text.find(line); pos != std::string::npos; pos = text.find(line, pos + 1)) {
    const bool starts = pos == 0 || text[pos - 1] == '\n';
    const size_t end = pos + line.size();
    if (starts && (end == text.size() || text[end] == '\n')) return true;
  }
  return false;
}

namespace {

void parse_config(const std::string& text, KernelConfig& c) {
  c.watch_queue = config_enabled(text, "CONFIG_WATCH_QUEUE");
  if (config_enabled(text, "CONFIG_PREEMPT_NONE")) c.preempt = "none";
  else if (config_enabled(text, "CONFIG_PREEMPT_VOLUNTARY")) c.preempt = "voluntary";
  else if (config_enabled(text, "CONFIG_PREEMPT")) c.preempt = "full";
  else if (config_enabled(text, "CONFIG_PREEMPT_RT")) c.preempt = "full";  // 6.1-rt: fully preemptible, CONFIG_PREEMPT unset
  else if (config_enabled(text, "CONFIG_PREEMPT_LAZY")) c.preempt = "lazy";
}

}  // namespace

KernelConfig read_kernel_config() {
  KernelConfig c;
  if (auto text = read_gzip("/proc/config.gz")) {
    c.source = "/proc/config.gz";
    parse_config(*text, c);
    return c;
  }
  utsname u{};
  if (uname(&u) != 0) return c;
  const std::string path = std::string("/boot/config-") + u.release;
  std::ifstream in(path);
  if (!in) return c;
  std::stringstream ss;
  ss << in.rdbuf();
  c.source = path;
  parse_config(ss.str(), c);
  return c;
}

int probe_socketpair(int family, int type) {
  auto ask = [](int f, int t) {
    int sv[2] = {-1, -1};
    if (::socketpair(f, t | SOCK_CLOEXEC, 0, sv) != 0) return errno;
    Fd a(sv[0]), b(sv[1]);  // closed here
    return 0;
  };
  if (family < 0 || family >= kProbedFamilies || type < 0 || type >= kProbedTypes) return ask(family, type);
  static std::mutex mutex;
  static std::array<std::array<std::optional<int>, kProbedTypes>, kProbedFamilies> seen;
  const std::lock_guard lock(mutex);
  auto& slot = seen[static_cast<size_t>(family)][static_cast<size_t>(type)];
  if (!slot) slot = ask(family, type);
  return *slot;
}

SocketpairErrnos probe_socketpair_families() {
  SocketpairErrnos table(kProbedFamilies);
  for (int family = 0; family < kProbedFamilies; ++family) {
    for (int type = 0; type < kProbedTypes; ++type) {
      table[static_cast<size_t>(family)][static_cast<size_t>(type)] = probe_socketpair(family, type);
    }
  }
  return table;
}

// alloc_skb_with_frags as unix_stream_sendmsg calls it: data_len = min(len,
// PAGE_ALIGN(len - SKB_MAX_HEAD(0))) in pages, the rest a kmalloc'ed linear head with
// skb_shared_info at its end; truesize = SKB_TRUESIZE of the head's bucket + the pages.
int unix_skb_truesize(const UnixConstants& c, int page_size, int len) {
  const int max_head = page_size - c.shinfo_size;  // SKB_MAX_HEAD(0)
  const int data_len = std::min(len, align_up(std::max(0, len - max_head), page_size));
  const int head = len - data_len;
  return c.sk_buff_size + kmalloc_size_roundup(align_up(head, 64) + c.shinfo_size) + align_up(data_len, page_size);
}

// unix_stream_sendmsg: at most sk_sndbuf/2 - 64 ("keep two messages in the pipe") and
// at most SKB_MAX_HEAD(0) + UNIX_SKB_FRAGS_SZ per skb.
int unix_max_skb_payload(const UnixConstants& c, int page_size) {
  return std::min((c.sndbuf >> 1) - 64, page_size - c.shinfo_size + c.frags_size);
}

long unix_write_truesize(const UnixConstants& c, int page_size, long len) {
  const int cap = unix_max_skb_payload(c, page_size);
  long total = 0;
  while (len > 0) {
    const int size = static_cast<int>(std::min<long>(len, cap));
    total += unix_skb_truesize(c, page_size, size);
    len -= size;
  }
  return total;
}

std::span<const int> unix_sample_sizes() { return kSampleSizes; }

std::optional<std::vector<UnixSample>> measure_unix(std::span<const int> sizes, int* sndbuf, std::string* error) {
  {
    Fd a, b;
    if (!make_pair(a, b, error)) return std::nullopt;
    int v = 0;
    socklen_t len = sizeof v;
    if (::getsockopt(a.get(), SOL_SOCKET, SO_SNDBUF, &v, &len) != 0) {
      fail_errno(error, "getsockopt(SO_SNDBUF)");
      return std::nullopt;
    }
    *sndbuf = v;
  }
  const int max_size = sizes.empty() ? 0 : *std::max_element(sizes.begin(), sizes.end());
  std::vector<char> buf(static_cast<size_t>(std::max(max_size, 1)), 'x');
  std::vector<UnixSample> samples;
  for (int size : sizes) {
    Fd a, b;
    if (!make_pair(a, b, error)) return std::nullopt;
    int before = -1;
    if (!outq(a.get(), &before, error)) return std::nullopt;
    if (before != 0) {
      fail(error, "SIOCOUTQ of a fresh socket is " + std::to_string(before) + ", not 0");
      return std::nullopt;
    }
    const ssize_t w = ::write(a.get(), buf.data(), static_cast<size_t>(size));
    if (w <= 0) {
      const int e = errno;
      fail(error, "write of " + std::to_string(size) + " bytes on a fresh socketpair: " +
                      (w == 0 ? std::string("returned 0") : std::strerror(e)));
      return std::nullopt;
    }
    int q = -1;
    if (!outq(a.get(), &q, error)) return std::nullopt;
    samples.push_back({size, static_cast<int>(w), q});
  }
  return samples;
}

std::optional<UnixConstants> fit_unix(int sndbuf, int page_size, std::span<const UnixSample> samples,
                                      std::string* error) {
  std::vector<UnixConstants> fits;
  UnixConstants closest;
  size_t closest_bad = samples.size() + 1;
  std::string closest_first;
  for (int skb : kSkbSizes) {
    for (int shinfo : kShinfoSizes) {
      for (int frags : kFragsSizes) {
        const UnixConstants c{sndbuf, skb, shinfo, frags};
        size_t bad = 0;
        std::string first;
        for (const UnixSample& s : samples) {
          const long predicted = unix_write_truesize(c, page_size, s.written);
          if (predicted != s.outq) {
            if (!bad++)
              first = "write " + std::to_string(s.written) + ": SIOCOUTQ " + std::to_string(s.outq) +
                      ", predicted " + std::to_string(predicted);
          }
        }
        if (bad == 0) fits.push_back(c);
        if (bad < closest_bad) {
          closest_bad = bad;
          closest = c;
          closest_first = first;
        }
      }
    }
  }
  if (fits.size() == 1) return fits.front();
  if (fits.empty()) {
    fail(error, "no AF_UNIX constants in the grid reproduce the " + std::to_string(samples.size()) +
                    " samples; closest " + describe(closest) + " misses " + std::to_string(closest_bad) +
                    ", first " + closest_first);
  } else {
    std::string list;
    for (const UnixConstants& c : fits) list += (list.empty() ? "" : ", ") + describe(c);
    fail(error, "ambiguous: " + std::to_string(fits.size()) + " AF_UNIX constant sets reproduce the " +
                    std::to_string(samples.size()) + " samples: " + list);
  }
  return std::nullopt;
}

namespace {

// A sysctl of several numbers (tcp_wmem: min, default, max): the one at `index`.
bool read_sysctl_at(const char* path, int index, long* out, std::string* error) {
  std::ifstream in(path);
  long v = -1;
  for (int i = 0; i <= index; ++i) {
    if (!(in >> v)) return fail(error, std::string("cannot read ") + path);
  }
  *out = v;
  return true;
}

// Two looks in a row at rest and alike (as the executor settles), within 5 s.
bool wait_at_rest(NetRest& net, std::string* error) {
  NetRest::View last;
  last.at_rest = false;
  for (int i = 0; i < 5000; ++i) {
    NetRest::View v = net.look();
    if (v.at_rest && v == last) return true;
    last = std::move(v);
    ::usleep(1000);
  }
  return fail(error, "the TCP connection did not come to rest within 5 s: " + last.why);
}

}  // namespace

std::optional<TcpConstants> measure_tcp(std::string* error) {
  TcpConstants c;
  struct Entry {
    const char* path;
    int index;
    int* out;
  };
  for (const Entry& e : {Entry{"/proc/sys/net/ipv4/tcp_wmem", 1, &c.wmem_default},
                         Entry{"/proc/sys/net/ipv4/tcp_wmem", 2, &c.wmem_max},
                         Entry{"/proc/sys/net/ipv4/tcp_rmem", 1, &c.rmem_default},
                         Entry{"/proc/sys/net/ipv4/tcp_rmem", 2, &c.rmem_max},
                         Entry{"/proc/sys/net/core/somaxconn", 0, &c.somaxconn},
                         Entry{"/proc/sys/net/core/wmem_max", 0, &c.core_wmem_max},
                         Entry{"/proc/sys/net/core/rmem_max", 0, &c.core_rmem_max}}) {
    long v = 0;
    if (!read_sysctl_at(e.path, e.index, &v, error)) return std::nullopt;
    *e.out = static_cast<int>(std::min<long>(v, INT_MAX));
  }
  // A listener, a blocking connect (the handshake is done when it returns), the child.
  Fd l(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (!l || ::bind(l.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(l.get(), 1) != 0 ||
      ::getsockname(l.get(), reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    fail_errno(error, "TCP listener on 127.0.0.1");
    return std::nullopt;
  }
  Fd w(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!w || ::connect(w.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    fail_errno(error, "connect to the TCP listener");
    return std::nullopt;
  }
  Fd r(::accept4(l.get(), nullptr, nullptr, SOCK_CLOEXEC));
  if (!r || ::fcntl(w.get(), F_SETFL, O_NONBLOCK) != 0) {
    fail_errno(error, "accept4 of the TCP connection");
    return std::nullopt;
  }
  // Filled as a trace's `fill` fills: one pass of writes until EAGAIN. What the reader
  // holds is read once the network is at rest, as a trace's next step is: on loopback the
  // segments reach the reader in the sender's softirq, but a deferred softirq (ksoftirqd,
  // a slow guest under TCG) leaves them in flight at the EAGAIN.
  std::vector<char> buf(65536, 'x');
  for (;;) {
    const ssize_t n = ::write(w.get(), buf.data(), buf.size());
    if (n > 0) {
      c.fill_total += n;
      continue;
    }
    if (n < 0 && errno == EAGAIN) break;
    fail_errno(error, "write on the TCP connection");
    return std::nullopt;
  }
  // The writer's buffer at the EAGAIN, before the ACKs of a rest let autotuning grow it.
  int inq = 0, sndbuf = 0;
  socklen_t ol = sizeof sndbuf;
  if (::getsockopt(w.get(), SOL_SOCKET, SO_SNDBUF, &sndbuf, &ol) != 0) {
    fail_errno(error, "SO_SNDBUF of the TCP connection");
    return std::nullopt;
  }
  NetRest net;
  if (!net.open(std::max(w.get(), r.get()) + 1, error)) return std::nullopt;
  const int fds[] = {w.get(), r.get()};
  net.note(fds);
  if (!wait_at_rest(net, error)) return std::nullopt;
  if (::ioctl(r.get(), SIOCINQ, &inq) != 0) {
    fail_errno(error, "SIOCINQ of the TCP connection");
    return std::nullopt;
  }
  c.rcv_capacity = inq;
  c.snd_capacity = c.fill_total - inq;
  c.sndbuf_settled = sndbuf;
  // The reader closes with unread bytes (RST): nothing lingers in FIN_WAIT.
  return c;
}

namespace {

// One datagram of `len` bytes from w to r: the receiver's rmem_alloc once it has arrived
// (loopback delivers in the sender's softirq; a few retries cover a deferred one), then
// read back so the next probe starts from an empty queue. -1 on failure.
long udp_truesize_of(int w, int r, int len, std::vector<char>& buf) {
  if (::write(w, buf.data(), static_cast<size_t>(len)) != len) return -1;
  uint32_t mem[SK_MEMINFO_VARS] = {};
  for (int tries = 0; tries < 1000; ++tries) {
    socklen_t ml = sizeof mem;
    if (::getsockopt(r, SOL_SOCKET, SO_MEMINFO, mem, &ml) != 0) return -1;
    if (mem[SK_MEMINFO_RMEM_ALLOC] != 0) break;
    ::usleep(100);
  }
  if (::read(r, buf.data(), buf.size()) != len) return -1;
  return mem[SK_MEMINFO_RMEM_ALLOC];
}

}  // namespace

std::optional<UdpConstants> measure_udp(std::string* error) {
  UdpConstants c;
  Fd r(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  Fd w(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  socklen_t ol = sizeof c.rmem_default;
  if (!r || !w || ::bind(r.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::getsockname(r.get(), reinterpret_cast<sockaddr*>(&a), &len) != 0 ||
      ::connect(w.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::getsockopt(r.get(), SOL_SOCKET, SO_RCVBUF, &c.rmem_default, &ol) != 0 ||
      ::getsockopt(w.get(), SOL_SOCKET, SO_SNDBUF, &c.wmem_default, &ol) != 0) {
    fail_errno(error, "UDP pair on 127.0.0.1");
    return std::nullopt;
  }
  constexpr int kMax = 65507;  // the largest datagram (65535 less the IP and UDP headers)
  std::vector<char> buf(kMax + 1, 'x');
  std::map<int, long> seen;
  auto truesize = [&](int n) {
    if (!seen.count(n)) seen[n] = udp_truesize_of(w.get(), r.get(), n, buf);
    return seen[n];
  };
  int from = 0;
  for (;;) {
    const long t = truesize(from);
    if (t <= 0) {
      fail_errno(error, ("UDP datagram of " + std::to_string(from) + " bytes").c_str());
      return std::nullopt;
    }
    if (from < kMax && truesize(from + 1) == t + 1 && truesize(kMax) == t + (kMax - from)) {
      c.paged_from = from;  // byte for byte from here to the largest
      c.paged_extra = static_cast<int>(t - from);
      return c;
    }
    c.steps.emplace_back(from, static_cast<int>(t));
    if (truesize(kMax) == t) {
      fail(error, "UDP truesize does not grow with the length");
      return std::nullopt;
    }
    int lo = from, hi = kMax;  // truesize(lo) == t < truesize(hi)
    while (hi - lo > 1) {
      const int mid = lo + (hi - lo) / 2;
      const long m = truesize(mid);
      if (m < 0) {
        fail_errno(error, ("UDP datagram of " + std::to_string(mid) + " bytes").c_str());
        return std::nullopt;
      }
      (m == t ? lo : hi) = mid;
    }
    from = hi;
    if (c.steps.size() > 64) {
      fail(error, "UDP truesize: more than 64 steps");
      return std::nullopt;
    }
  }
}

std::optional<Calibration> calibrate(std::string* error) {
  Calibration cal;
  const long page = ::sysconf(_SC_PAGESIZE);
  if (page <= 0) {
    fail(error, "sysconf(_SC_PAGESIZE) gave no page size");
    return std::nullopt;
  }
  cal.page_size = static_cast<int>(page);
  if (!measure_pipe(cal.page_size, cal, error)) return std::nullopt;
  if (!read_sysctl("/proc/sys/fs/epoll/max_user_watches", 1, &cal.max_user_watches, error)) return std::nullopt;
  long qlen = 0;
  if (!read_sysctl("/proc/sys/net/unix/max_dgram_qlen", 0, &qlen, error)) return std::nullopt;
  cal.unix_max_dgram_qlen = static_cast<int>(qlen);
  if (!read_fd_limits(cal, error)) return std::nullopt;
  if (!read_mqueue_limits(cal.mqueue, error)) return std::nullopt;
  cal.config = read_kernel_config();
  cal.nr_cpus = static_cast<int>(std::max(::sysconf(_SC_NPROCESSORS_ONLN), 1L));
  int sndbuf = 0;
  auto samples = measure_unix(unix_sample_sizes(), &sndbuf, error);
  if (!samples) return std::nullopt;
  cal.samples = std::move(*samples);
  auto fit = fit_unix(sndbuf, cal.page_size, cal.samples, error);
  if (!fit) return std::nullopt;
  cal.af_unix = *fit;
  auto tcp = measure_tcp(error);
  if (!tcp) return std::nullopt;
  cal.tcp = *tcp;
  auto udp = measure_udp(error);
  if (!udp) return std::nullopt;
  cal.udp = *udp;
  return cal;
}

}  // namespace real

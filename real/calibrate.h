// Calibration: measures on the running kernel the constants the model's KernelProfile
// takes from a real kernel (AF_UNIX skb accounting, pipe capacity, page size, epoll
// watch limit, descriptor limits, build options; socket families on demand). real/ does
// not include model/: the results are plain numbers, and the oracle (or a test) copies
// them into a model::KernelProfile.
#pragma once
#include <array>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace real {

// One single write(2) on an AF_UNIX stream socketpair whose send queue was empty:
// `written` is what write returned, `outq` is SIOCOUTQ on the writer right after
// (unix_outq_len: sk_wmem_alloc - 1, the truesize of the skbs the peer has not read).
struct UnixSample {
  int requested = 0;
  int written = 0;
  int outq = 0;
  friend bool operator==(const UnixSample&, const UnixSample&) = default;
};

// The AF_UNIX constants, field for field those of model::UnixCalibration.
struct UnixConstants {
  int sndbuf = 0;        // SO_SNDBUF of a fresh socket (sk_sndbuf = net.core.wmem_default)
  int sk_buff_size = 0;  // SKB_DATA_ALIGN(sizeof(struct sk_buff))
  int shinfo_size = 0;   // SKB_DATA_ALIGN(sizeof(struct skb_shared_info))
  int frags_size = 0;    // UNIX_SKB_FRAGS_SZ
  friend bool operator==(const UnixConstants&, const UnixConstants&) = default;
};

// The families below this bound are probed (NPROTO = AF_MAX of 6.18) and the types below
// SOCK_MAX (SOCK_PACKET + 1); __sock_create refuses the others by range.
inline constexpr int kProbedFamilies = 46;
inline constexpr int kProbedTypes = 11;
using SocketpairErrnos = std::vector<std::array<int, kProbedTypes>>;

// The build options the model's answers depend on, from the running kernel's config.
struct KernelConfig {
  std::string source;        // "/proc/config.gz" or "/boot/config-RELEASE"; empty: none found
  bool watch_queue = false;  // CONFIG_WATCH_QUEUE=y
  // The preemption model: "none", "voluntary", "full" or "lazy" (CONFIG_PREEMPT_NONE,
  // _VOLUNTARY, CONFIG_PREEMPT, CONFIG_PREEMPT_LAZY); empty if no config was found. With
  // CONFIG_PREEMPT_DYNAMIC a preempt= boot option could override it: not read.
  std::string preempt;
};

// TCP on loopback, field for field those of model::TcpCalibration: the sysctls a new
// socket takes, and one fill of a fresh connection whose reader does not read.
struct TcpConstants {
  int wmem_default = 0;   // net.ipv4.tcp_wmem[1]
  int wmem_max = 0;       // net.ipv4.tcp_wmem[2]
  int rmem_default = 0;   // net.ipv4.tcp_rmem[1]
  int rmem_max = 0;       // net.ipv4.tcp_rmem[2]
  int somaxconn = 0;      // net.core.somaxconn
  int core_wmem_max = 0;  // net.core.wmem_max
  int core_rmem_max = 0;  // net.core.rmem_max
  long fill_total = 0;    // what 65536-byte non-blocking writes took until EAGAIN
  long rcv_capacity = 0;  // SIOCINQ of the reader then
  long snd_capacity = 0;  // fill_total - rcv_capacity: what the writer holds
  int sndbuf_settled = 0;  // the writer's SO_SNDBUF then
};

// ipc/mqueue.c's limits: the sysctls of /proc/sys/fs/mqueue, and whether this process has
// CAP_SYS_RESOURCE (CapEff bit 24 of /proc/self/status), which lifts them to HARD_MSGMAX /
// HARD_MSGSIZEMAX and lifts queues_max. Field for field model::MqueueLimits.
struct MqueueSysctls {
  long msg_max = 0, msgsize_max = 0, queues_max = 0, msg_default = 0, msgsize_default = 0;
  bool cap_sys_resource = false;
};

// UDP on loopback, field for field those of model::UdpCalibration: a new socket's buffers
// and the truesize one datagram is charged, as a step function of its length (SO_MEMINFO's
// SK_MEMINFO_RMEM_ALLOC of the receiver after one datagram; truesize never falls as the
// length grows, so each step's first length is found by bisection).
struct UdpConstants {
  int rmem_default = 0;  // SO_RCVBUF of a fresh UDP socket (net.core.rmem_default)
  int wmem_default = 0;  // SO_SNDBUF of a fresh UDP socket (net.core.wmem_default)
  std::vector<std::pair<int, int>> steps;  // (first length, truesize) of the linear skbs
  int paged_from = 0;    // the first length whose truesize grows byte for byte
  int paged_extra = 0;   // truesize - length from there on
};

struct Calibration {
  int page_size = 0;           // sysconf(_SC_PAGESIZE)
  int pipe_capacity = 0;       // F_GETPIPE_SZ of a fresh pipe, in bytes
  int pipe_def_buffers = 0;    // pipe_capacity / page_size (PIPE_DEF_BUFFERS)
  long max_user_watches = 0;   // /proc/sys/fs/epoll/max_user_watches
  int unix_max_dgram_qlen = 0;  // /proc/sys/net/unix/max_dgram_qlen (sk_max_ack_backlog of new sockets)
  long rlimit_nofile = 0;      // getrlimit(RLIMIT_NOFILE).rlim_cur (RLIM_INFINITY: nr_open)
  long nr_open = 0;            // /proc/sys/fs/nr_open
  int nr_cpus = 0;             // sysconf(_SC_NPROCESSORS_ONLN)
  MqueueSysctls mqueue;
  KernelConfig config;
  UnixConstants af_unix;
  std::vector<UnixSample> samples;  // the measurements af_unix was fitted to
  TcpConstants tcp;
  UdpConstants udp;
};

// The TCP sysctls and one fill on a fresh 127.0.0.1 connection (closed before returning).
std::optional<TcpConstants> measure_tcp(std::string* error);

// The UDP buffers and the truesize steps on a fresh 127.0.0.1 pair (closed before returning).
std::optional<UdpConstants> measure_udp(std::string* error);

// Reads CONFIG_* lines from /proc/config.gz (zlib), else /boot/config-`uname -r`.
KernelConfig read_kernel_config();
// Whether a config text (one CONFIG_X=y / "# CONFIG_X is not set" per line) sets `name`=y.
bool config_enabled(const std::string& text, const std::string& name);
// socketpair(family, type | SOCK_CLOEXEC, 0) on the running kernel: 0 (it made a pair,
// closed at once) or the errno. Which families exist depends on the kernel's build and
// loaded modules (a missing family may be autoloaded: the probe asks as a trace would).
// Each (family, type) below (kProbedFamilies, kProbedTypes) is probed the first time it is
// asked and remembered, never at start: probing them all costs ~115 ms (one AF_PACKET
// socketpair takes ~30 ms) and most runs ask none. Safe to call from several threads.
int probe_socketpair(int family, int type);
// probe_socketpair of every family < kProbedFamilies and type < kProbedTypes.
SocketpairErrnos probe_socketpair_families();

// The accounting rules the fit assumes; the model's unix_skb_truesize and
// unix_max_skb_payload (model/af_unix.cpp) compute the same.
// truesize of one skb of `len` bytes (net/core/skbuff.c alloc_skb_with_frags, as
// net/unix/af_unix.c unix_stream_sendmsg sizes it).
int unix_skb_truesize(const UnixConstants& c, int page_size, int len);
// Largest payload of one skb (unix_stream_sendmsg).
int unix_max_skb_payload(const UnixConstants& c, int page_size);
// sk_wmem_alloc - 1 after one write of `len` bytes fully queued: the sum over its skbs.
long unix_write_truesize(const UnixConstants& c, int page_size, long len);

// Write sizes that tell the grid's candidates apart (kmalloc bucket edges for each
// shinfo candidate, the linear-head limit, the per-skb payload limits).
std::span<const int> unix_sample_sizes();

// SO_SNDBUF of a fresh socketpair, then for each size a single write on a fresh
// socketpair (SOCK_STREAM|SOCK_NONBLOCK|SOCK_CLOEXEC) with its SIOCOUTQ.
// nullopt (and *error) if a call fails.
std::optional<std::vector<UnixSample>> measure_unix(std::span<const int> sizes, int* sndbuf, std::string* error);

// The unique (sk_buff_size, shinfo_size, frags_size) of the grid
// sk_buff_size 192..512 step 64, shinfo_size 256..448 step 64, frags_size 16K/32K/64K
// for which unix_write_truesize(written) == outq for every sample. nullopt (and *error
// naming the candidates) if none or several fit.
std::optional<UnixConstants> fit_unix(int sndbuf, int page_size, std::span<const UnixSample> samples,
                                      std::string* error);

// Everything above on the running kernel. Opens descriptors only for the duration of
// the call and closes each on every path.
std::optional<Calibration> calibrate(std::string* error);

}  // namespace real

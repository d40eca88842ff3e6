// KernelProfile: the one place where kernel versions differ. Every behaviour switch
// the model has is a field here, derived from the version by for_version().
#pragma once
#include <array>
#include <compare>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace model {

struct KernelVersion {
  int major = 0, minor = 0, patch = 0;
  auto operator<=>(const KernelVersion&) const = default;
  std::string str() const;
  // Parses "6.18", "6.18.44" or a uname release such as "6.18.44-fc-v657".
  static std::optional<KernelVersion> parse(std::string_view text);
  // The version a running kernel is: Debian's `uname -r` is an ABI name ("6.1.0-57-cloud-amd64")
  // and its `uname -v` carries the package version ("#1 SMP PREEMPT_DYNAMIC Debian
  // 6.1.192-3 (2026-...)"), which wins when present; otherwise the release.
  static std::optional<KernelVersion> from_uname(std::string_view release, std::string_view version);
};

// One kernel change the model follows: the mainline release that brought it and the
// stable releases of older series it was backported to (Debian's changelogs of the
// kernels `epoll-oracle kernels` boots name them: usr/share/doc/linux-image-*/changelog*.gz).
struct KernelChange {
  std::string_view title;             // "commit-id subject" as in the kernel's git log
  KernelVersion mainline;             // first release with it (X.Y.0)
  std::array<KernelVersion, 4> stable{};  // {X, Y, first patch} per series; {0, 0, 0} unused
  // Whether kernel v has it: v >= mainline, or v is of a listed series at or after its patch.
  constexpr bool in(KernelVersion v) const {
    if (v >= mainline) return true;
    for (const KernelVersion& s : stable) {
      if (s.major != 0 && s.major == v.major && s.minor == v.minor && v.patch >= s.patch) return true;
    }
    return false;
  }
};

// The changes for_version() reads, newest last.
namespace changes {
inline constexpr KernelChange kNotificationPipe{"c73be61cede5 pipe: Add general notification queue support", {5, 8, 0}};
inline constexpr KernelChange kEpollPwait2{"b0a0c2615f6f epoll: wire up syscall epoll_pwait2", {5, 11, 0}};
inline constexpr KernelChange kPipeAlwaysWake{"3a34b13a88ca pipe: make pipe writes always wake up readers", {5, 14, 0},
                                              {{{5, 10, 56}}}};
inline constexpr KernelChange kPipeEtWakeWhenPolled{
    "3b844826b6c6 pipe: avoid unnecessary EPOLLET wakeups under normal loads", {5, 15, 0}, {{{5, 10, 62}}}};
inline constexpr KernelChange kAfMctp{"bc49d8169aa7 mctp: Add MCTP base (AF_MCTP raises AF_MAX)", {5, 15, 0}};
inline constexpr KernelChange kEventfdWriteExactSize{
    "325e56e9236e eventfd: strictly check the count parameter of eventfd_write to avoid inputting illegal strings",
    {6, 9, 0}};
inline constexpr KernelChange kEpCallbackSyncWake{"epoll: Add synchronous wakeup support for ep_poll_callback",
                                                  {6, 13, 0}, {{{5, 10, 233}, {6, 1, 122}, {6, 12, 7}}}};
inline constexpr KernelChange kEpCheckParamsFdFirst{"6b47d35d4d9e eventpoll: abstract out parameter sanity checking",
                                                    {6, 15, 0}};
inline constexpr KernelChange kReuseportInetOnly{"net: restrict SO_REUSEPORT to inet sockets", {6, 13, 0},
                                                 {{{6, 1, 124}, {6, 12, 9}}}};
inline constexpr KernelChange kUdpAcceptOnlyIntoEmpty{"udp: refine __udp_enqueue_schedule_skb() test", {6, 18, 0}};
inline constexpr KernelChange kEpLoopCheckUpwards{"f2e467a48287 eventpoll: Fix semi-unbounded recursion", {6, 17, 0},
                                                  {{{6, 1, 149}, {6, 12, 43}}}};
}  // namespace changes

// Which writes wake pipe readers (fs/pipe.c pipe_write, by version).
enum class PipeReaderWake {
  kOnlyWhenEmpty,      // 5.5 .. 5.13 (5.10 before .56): 1b6b26ae7053, wake only if the pipe was empty
  kAlways,             // changes::kPipeAlwaysWake (5.14; 5.10.56)
  kWhenEmptyOrPolled,  // changes::kPipeEtWakeWhenPolled (5.15; 5.10.62): was_empty || pipe->poll_usage
};

// The kernel's preemption model (CONFIG_PREEMPT_NONE / _VOLUNTARY / CONFIG_PREEMPT /
// CONFIG_PREEMPT_LAZY): whether a task woken on the waker's CPU may run before the waker's
// syscall ends (kernel/sched/core.c preempt_schedule at preempt_enable; none with kNone/
// kVoluntary, where a kernel path is preempted only where it sleeps or returns).
enum class Preempt { kNone, kVoluntary, kFull, kLazy };

// Sizes of the AF_UNIX send path that depend on allocator and struct layouts. The
// defaults are those of x86-64 6.18 as measured here; real/calibrate measures them on a
// kernel (SIOCOUTQ after writes of chosen sizes) and the oracle copies them in.
struct UnixCalibration {
  int sndbuf = 212992;        // default sk_sndbuf (net.core.wmem_default)
  int sk_buff_size = 256;     // SKB_DATA_ALIGN(sizeof(struct sk_buff)): truesize overhead
  int shinfo_size = 320;      // SKB_DATA_ALIGN(sizeof(struct skb_shared_info))
  int frags_size = 32768;     // UNIX_SKB_FRAGS_SZ: paged part of one skb at most
  int max_dgram_qlen = 10;    // net.unix.max_dgram_qlen (unix_net_init: 10), read from /proc
  bool measured = false;      // true once filled from a real kernel
  friend bool operator==(const UnixCalibration&, const UnixCalibration&) = default;
};

// TCP on loopback (net/ipv4/tcp.c, tcp_input.c): the sysctls a fresh socket takes and
// what one connection holds, measured by real/calibrate on a loopback connection whose
// reader does not read (fill with 65536-byte writes, then SIOCINQ of the reader and
// SIOCOUTQ of the writer once settled). The defaults are this machine's (6.18.44).
struct TcpCalibration {
  int wmem_default = 16384;    // net.ipv4.tcp_wmem[1]: sk_sndbuf of a new socket (tcp_init_sock)
  int rmem_default = 131072;   // net.ipv4.tcp_rmem[1]: sk_rcvbuf of a new socket
  int rmem_max = 33554432;     // net.ipv4.tcp_rmem[2]: caps SO_RCVLOWAT (tcp_set_rcvlowat)
  int somaxconn = 4096;        // net.core.somaxconn: caps listen's backlog (__sys_listen)
  int core_wmem_max = 4194304; // net.core.wmem_max: caps SO_SNDBUF (sk_setsockopt)
  int core_rmem_max = 4194304; // net.core.rmem_max: caps SO_RCVBUF
  int wmem_max = 4194304;      // net.ipv4.tcp_wmem[2]: where sk_sndbuf autotuning stops
  long rcv_capacity = 113152;  // bytes the reader's queue took (SIOCINQ) with default buffers
  long snd_capacity = 3797504; // what the writer holds then: the fill total less the reader's
  int sndbuf_settled = 3939840;  // the writer's SO_SNDBUF then (autotuned from tcp_wmem[1])
  bool measured = false;
  friend bool operator==(const TcpCalibration&, const TcpCalibration&) = default;
};

// ipc/mqueue.c limits: the sysctls of /proc/sys/fs/mqueue and whether the trace's process
// has CAP_SYS_RESOURCE (then mqueue_get_inode checks HARD_MSGMAX / HARD_MSGSIZEMAX instead
// of msg_max / msgsize_max, and mqueue_create_attr ignores queues_max). The defaults are
// the kernel's (mq_init_ns) for a process without the capability (so is root in this
// project's sandbox: its CapEff lacks it); real/calibrate reads the running ones.
struct MqueueLimits {
  long msg_max = 10;           // DFLT_MSGMAX
  long msgsize_max = 8192;     // DFLT_MSGSIZEMAX
  long queues_max = 256;       // DFLT_QUEUESMAX
  long msg_default = 10;       // DFLT_MSG
  long msgsize_default = 8192; // DFLT_MSGSIZE
  bool cap_sys_resource = false;
  friend bool operator==(const MqueueLimits&, const MqueueLimits&) = default;
};

// UDP on loopback (net/ipv4/udp.c): the buffers a new socket takes and what one datagram
// of each size is charged (skb->truesize, as __ip_append_data allocates it on loopback),
// measured by real/calibrate (SO_MEMINFO's rmem_alloc after one datagram). truesize is a
// step function of the length: `steps` (first length, truesize) for the linear skbs, then
// from `paged_from` on a small head plus the payload in page frags (len + paged_extra).
// The defaults are this machine's (6.18.44).
struct UdpCalibration {
  int rmem_default = 212992;  // net.core.rmem_default: sk_rcvbuf of a new socket (sock_init_data)
  int wmem_default = 212992;  // net.core.wmem_default: sk_sndbuf
  std::vector<std::pair<int, int>> steps = {{0, 832},     {198, 1280},   {646, 2304},
                                            {1670, 4352}, {3718, 8448},  {7814, 16640}};
  int paged_from = 16005;
  int paged_extra = 832;
  bool measured = false;
  friend bool operator==(const UdpCalibration&, const UdpCalibration&) = default;
};

struct KernelProfile {
  KernelVersion version{6, 18, 0};

  // fs/pipe.c
  PipeReaderWake pipe_reader_wake = PipeReaderWake::kWhenEmptyOrPolled;
  int pipe_def_buffers = 16;  // PIPE_DEF_BUFFERS
  int page_size = 4096;

  // fs/eventpoll.c
  // epoll_wait argument checks: changes::kEpCheckParamsFdFirst, ep_check_params() checks the
  // fd first (EBADF); before, maxevents (EINVAL) came first.
  bool ep_wait_checks_fd_first = true;
  // changes::kEpLoopCheckUpwards (6.17; 6.1.149, 6.12.43): ep_loop_check() also counts the epolls above the one being added to
  // (ep_get_upwards_depth_proc), so a too-deep chain fails with ELOOP when built in any
  // order; before, only the depth below counted and deep chains built top-down were
  // refused later by reverse_path_check() with EINVAL.
  bool ep_loop_check_upwards = true;
  // changes::kEpCallbackSyncWake: ep_poll_callback uses wake_up_sync for sync wakeups.
  // A scheduler hint only; kept for explain output.
  bool ep_callback_sync_wake = true;
  long max_user_watches = 1L << 22;  // /proc/sys/fs/epoll/max_user_watches
  // changes::kEpollPwait2: the syscall exists (before 5.11: ENOSYS, as for any unknown nr).
  bool has_epoll_pwait2 = true;

  // fs/eventfd.c eventfd_write: changes::kEventfdWriteExactSize, a count other than 8 is
  // EINVAL; before, only a count below 8 was, and a longer write wrote 8.
  bool efd_write_exact_size = true;
  // changes::kReuseportInetOnly: sk_setsockopt refuses SO_REUSEPORT on (EOPNOTSUPP) unless
  // the socket is an inet one.
  bool reuseport_inet_only = true;
  // changes::kUdpAcceptOnlyIntoEmpty: __udp_enqueue_schedule_skb drops a datagram whose
  // charge would pass sk_rcvbuf unless the queue is empty; before, only once the charge
  // already passed it (one datagram more gets in).
  bool udp_accept_only_into_empty = true;
  int ep_max_nests = 4;              // EP_MAX_NESTS

  // fs/file.c, fs/select.c: the process's descriptor limit. get_unused_fd_flags allocates
  // below rlimit(RLIMIT_NOFILE) (EMFILE beyond), expand_files refuses sysctl_nr_open and
  // beyond; do_sys_poll refuses nfds > rlimit(RLIMIT_NOFILE) with EINVAL. The defaults are
  // the usual 1024 / 1048576; real/calibrate reads the running process's values.
  long rlimit_nofile = 1024;  // getrlimit(RLIMIT_NOFILE).rlim_cur
  long nr_open = 1L << 20;    // /proc/sys/fs/nr_open

  // fs/pipe.c create_pipe_files -> watch_queue_init: pipe2(O_NOTIFICATION_PIPE) needs
  // CONFIG_WATCH_QUEUE (5.8+), read from the running kernel's config; without it ENOPKG.
  bool has_notification_pipe_flag = true;  // 5.8+: O_NOTIFICATION_PIPE is a valid pipe2 flag
  bool config_watch_queue = false;         // CONFIG_WATCH_QUEUE=y

  // net/socket.c __sock_create: which protocol families this kernel has (net_families[],
  // set by the families built in or loaded) and what their create accepts. The model knows
  // AF_UNIX, AF_INET and AF_INET6 by rule; for the others it asks this probe what
  // socketpair(family, type, 0) gives on the kernel (real::probe_socketpair: 0 for a pair,
  // else the errno), only when a trace calls socketpair with such a family. Unset: not
  // probed; other families EAFNOSUPPORT.
  std::function<int(int family, int type)> other_family_socketpair;
  int nproto = 46;  // NPROTO = AF_MAX (46 since AF_MCTP in 5.15, 45 before)

  // net/unix
  UnixCalibration unix_cal;
  // net/ipv4
  TcpCalibration tcp_cal;
  UdpCalibration udp_cal;

  // ipc/mqueue.c
  MqueueLimits mqueue;

  // kernel/sched: the CPUs a woken task may be placed on. With one CPU and no kernel
  // preemption a wakee runs only after the waker's syscall (or when the waker sleeps);
  // with two or more it may run at once on another CPU (notes/cpu_wake_points.md: both
  // orders measured here). real/calibrate reads sysconf(_SC_NPROCESSORS_ONLN) and the
  // config; the defaults are this machine's.
  int nr_cpus = 2;
  Preempt preempt = Preempt::kNone;
  // Whether a wakee may run at a wake point (Scheduler::wake_point) before the waker's
  // syscall goes on: on another CPU, or by in-kernel preemption on the same one.
  bool wakee_may_run_at_once() const { return nr_cpus >= 2 || preempt == Preempt::kFull || preempt == Preempt::kLazy; }

  // The profile of a given kernel version, with the switches set as that version has them.
  static KernelProfile for_version(KernelVersion v);
  // Oldest kernel the model knows (pipes as rewritten in 5.5).
  static constexpr KernelVersion kOldest{5, 5, 0};
  // Newest kernel series (major.minor, any patch) a --profile may name: 7.2, the newest a
  // machine here can boot (Debian's 7.2.13, shared/research/qemu_kernels.md). The model's
  // eventpoll rules were read at a 7.0-rc tree; later changes are not modelled.
  static constexpr KernelVersion kNewest{7, 2, 0};
};

}  // namespace model

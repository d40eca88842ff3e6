#include "kernel_profile.h"

#include <cerrno>
#include <memory>

namespace eo {

model::KernelProfile measured_profile(model::KernelVersion v, const real::Calibration& cal,
                                      std::function<int(int family, int type)> families) {
  model::KernelProfile p = model::KernelProfile::for_version(v);
  p.unix_cal.sndbuf = cal.af_unix.sndbuf;
  p.unix_cal.sk_buff_size = cal.af_unix.sk_buff_size;
  p.unix_cal.shinfo_size = cal.af_unix.shinfo_size;
  p.unix_cal.frags_size = cal.af_unix.frags_size;
  p.unix_cal.max_dgram_qlen = cal.unix_max_dgram_qlen;
  p.unix_cal.measured = true;
  p.tcp_cal = {.wmem_default = cal.tcp.wmem_default, .rmem_default = cal.tcp.rmem_default,
               .rmem_max = cal.tcp.rmem_max, .somaxconn = cal.tcp.somaxconn,
               .core_wmem_max = cal.tcp.core_wmem_max, .core_rmem_max = cal.tcp.core_rmem_max,
               .wmem_max = cal.tcp.wmem_max, .rcv_capacity = cal.tcp.rcv_capacity,
               .snd_capacity = cal.tcp.snd_capacity, .sndbuf_settled = cal.tcp.sndbuf_settled, .measured = true};
  p.page_size = cal.page_size;
  p.pipe_def_buffers = cal.pipe_def_buffers;
  p.max_user_watches = cal.max_user_watches;
  p.rlimit_nofile = cal.rlimit_nofile;
  p.nr_open = cal.nr_open;
  p.udp_cal = {.rmem_default = cal.udp.rmem_default, .wmem_default = cal.udp.wmem_default, .steps = cal.udp.steps,
               .paged_from = cal.udp.paged_from, .paged_extra = cal.udp.paged_extra, .measured = true};
  p.mqueue = {cal.mqueue.msg_max,     cal.mqueue.msgsize_max,     cal.mqueue.queues_max,
              cal.mqueue.msg_default, cal.mqueue.msgsize_default, cal.mqueue.cap_sys_resource};
  p.other_family_socketpair = std::move(families);
  p.config_watch_queue = cal.config.watch_queue;
  p.nr_cpus = cal.nr_cpus;
  if (cal.config.preempt == "voluntary") p.preempt = model::Preempt::kVoluntary;
  else if (cal.config.preempt == "full") p.preempt = model::Preempt::kFull;
  else if (cal.config.preempt == "lazy") p.preempt = model::Preempt::kLazy;
  else p.preempt = model::Preempt::kNone;  // also when no config was found
  return p;
}

std::function<int(int, int)> families_table(real::SocketpairErrnos table) {
  auto shared = std::make_shared<const real::SocketpairErrnos>(std::move(table));
  return [shared](int family, int type) {
    if (family < 0 || type < 0 || static_cast<size_t>(family) >= shared->size() || type >= real::kProbedTypes) {
      return EAFNOSUPPORT;
    }
    return (*shared)[static_cast<size_t>(family)][static_cast<size_t>(type)];
  };
}

}  // namespace eo

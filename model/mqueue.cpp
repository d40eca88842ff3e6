// ipc/mqueue.c (ColinIanKing/linux-next 01c388b96358: a 6.18+ tree, do_mq_open with FD_ADD).
#include "mqueue.h"

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "process.h"

namespace model {

namespace {

// OPEN_FMODE (include/linux/fs.h): O_RDONLY, O_WRONLY, O_RDWR -> FMODE_READ/WRITE; 3 -> none.
unsigned open_fmode(int oflag) { return static_cast<unsigned>((oflag + 1) & O_ACCMODE_); }

// The status line mqueue_read_file formats. The model's process has no pid and its signal
// number is the executor's: while a registration exists, SIGNO and NOTIFY_PID are shown
// as 0 (the kernel shows them), which only eventfd_read's bytes could tell.
std::string mq_status_line(const MqueueInode& info) {
  char line[80];
  std::snprintf(line, sizeof line, "QSIZE:%-10lu NOTIFY:%-5d SIGNO:%-5d NOTIFY_PID:%-6d\n",
                static_cast<unsigned long>(info.qsize), info.notify_owner ? info.sigev_notify : 0, 0, 0);
  return line;
}

// task->prio: every trace task is SCHED_OTHER at nice 0, 120 (MAX_RT_PRIO + 20).
int task_prio(const Task&) { return 120; }

MqueueFile* mq_file(FdTable& fdt, int fd) { return dynamic_cast<MqueueFile*>(fdt.fget(fd)); }

// msg_insert: the message goes at the tail of its priority's list.
void msg_insert(MqueueInode& info, const MqMsg& m) {
  info.msg_tree[m.prio].push_back(m);
  ++info.curmsgs;
  info.qsize += m.len;
}

// msg_get: the first message of the highest priority (the rightmost node).
MqMsg msg_get(MqueueInode& info) {
  auto leaf = std::prev(info.msg_tree.end());
  const MqMsg m = leaf->second.front();
  leaf->second.pop_front();
  if (leaf->second.empty()) info.msg_tree.erase(leaf);  // msg_tree_erase
  --info.curmsgs;
  info.qsize -= m.len;
  return m;
}

// wq_add: before the first waiter whose priority value is <= ours (all equal here: at the
// head), so that the back of the list, where wq_get_first_waiter serves, is the oldest.
void wq_add(MqueueInode& info, int sr, MqWaiter& ewp) {
  MqWaitList& list = info.e_wait_q[sr];
  for (auto it = list.begin(); it != list.end(); ++it) {
    if (task_prio(*it->task) <= task_prio(*ewp.task)) {  // walk->task->prio <= current->prio
      list.insert(it, ewp);
      return;
    }
  }
  list.push_back(ewp);
}

// wq_get_first_waiter: the last entry of the list.
MqWaiter* wq_get_first_waiter(MqueueInode& info, int sr) {
  MqWaitList& list = info.e_wait_q[sr];
  return list.empty() ? nullptr : &list.back();
}

// __pipelined_op: the waiter leaves the list, is marked ready and woken (wake_q).
void pipelined_op(MqueueInode& info, MqWaiter& w, Rule r) {
  w.hook.unlink();
  w.ready = true;
  info.g->rule(r);
  w.task->sched->try_to_wake_up(*w.task);
}

// wq_sleep with a null timeout (the trace's calls have none): sleeps until a pipelined op
// readies the waiter or a signal comes (-ERESTARTSYS, EINTR for the trace's handler).
MaySleep wq_sleep(Task& t, MqueueInode& info, int sr, MqWaiter& ewp) {
  wq_add(info, sr, ewp);
  for (;;) {
    const int time = co_await schedule_hrtimeout_range(t, nullptr);
    if (ewp.ready) co_return 0;
    if (t.signal_pending) break;
    if (time == 0) co_return -ETIMEDOUT;  // no timer is armed: not reached
  }
  ewp.hook.unlink();  // list_del
  co_return -EINTR;
}

// __do_notify: the empty-to-non-empty edge with a registration sends the signal to the
// owner process (or not, kSigevNone) and drops the registration; wait_q is woken whatever
// the count. The owner is alive: its exit closed its descriptors, and a close by it drops
// the registration (mqueue_flush_file), so pid_task always finds it here.
void do_notify(MqueueInode& info) {
  Globals& g = *info.g;
  if (info.notify_owner && info.curmsgs == 1) {
    if (info.sigev_notify == kSigevSignal) {
      ++info.notify_owner->mq_notify_signals;  // do_send_sig_info(..., PIDTYPE_TGID)
      g.rule(Rule::kMqNotifySignal);
    } else {
      g.rule(Rule::kMqNotifyNone);
    }
    info.notify_owner = nullptr;
  }
  wake_up(info.wait_q, Rule::kMqSendWakeWaitQ);
}

// remove_notification
void remove_notification(MqueueInode& info) { info.notify_owner = nullptr; }

}  // namespace

MqueueInode::MqueueInode(Globals& g_, long maxmsg_, long msgsize_)
    : g(&g_), wait_q(g_, "info->wait_q", this), maxmsg(maxmsg_), msgsize(msgsize_) {
  ++g->mq_queues_count;
}

MqueueInode::~MqueueInode() { --g->mq_queues_count; }

MqueueFile::MqueueFile(Globals& g_, std::shared_ptr<MqueueInode> info_, unsigned mode, int flags)
    : File(g_, with_rw_ops(mode) & ~FMODE_CAN_WRITE, flags), info(std::move(info_)) {}

// mqueue_poll_file: IN while messages are queued, OUT while there is room; nothing else.
poll_t MqueueFile::poll(PollTable* pt) {
  poll_wait(this, info->wait_q, pt);
  poll_t mask = 0;
  if (info->curmsgs) mask = EPOLLIN | EPOLLRDNORM;
  if (info->curmsgs < info->maxmsg) mask |= EPOLLOUT | EPOLLWRNORM;
  return mask;
}

// mqueue_read_file: the status line, read from the file position (simple_read_from_buffer).
MaySleep MqueueFile::read(Task&, void* buf, size_t n) {
  const std::string line = mq_status_line(*info);
  const long len = static_cast<long>(line.size());
  if (f_pos >= len) co_return 0;
  const long k = std::min(static_cast<long>(n), len - f_pos);
  if (buf) std::memcpy(buf, line.data() + f_pos, static_cast<size_t>(k));
  f_pos += k;
  co_return k;
}

// mqueue_flush_file: every close by the owner process drops its registration (task_tgid
// of current is the owner); another process's close of its copy does not.
void MqueueFile::flush(const Process& current) {
  if (info->notify_owner == &current) {
    g->rule(Rule::kMqFlushDropsNotify);
    remove_notification(*info);
  }
}

// do_mq_open: the descriptor is reserved first (EMFILE), then the name is looked up:
// prepare_open, mqueue_create_attr and mqueue_get_inode in their order.
long do_mq_open(Globals& g, MqNamespace& ns, FdTable& fdt, const std::string& name, int oflag, const long* attr) {
  if (!fdt.has_free(1)) return g.fail(Rule::kFdEmfile, -EMFILE);
  const MqueueLimits& lim = g.profile.mqueue;
  std::shared_ptr<MqueueInode> info;
  const auto it = ns.names.find(name);
  if (it == ns.names.end()) {
    if (!(oflag & O_CREAT_)) return g.fail(Rule::kMqOpenEnoent, -ENOENT);
    // mqueue_create_attr
    if (g.mq_queues_count >= lim.queues_max && !lim.cap_sys_resource) return g.fail(Rule::kMqOpenEnospc, -ENOSPC);
    // mqueue_get_inode: the defaults, or the attr given
    long maxmsg = std::min(lim.msg_max, lim.msg_default), msgsize = std::min(lim.msgsize_max, lim.msgsize_default);
    if (attr) maxmsg = attr[0], msgsize = attr[1];
    if (maxmsg <= 0 || msgsize <= 0) return g.fail(Rule::kMqOpenEinvalAttr, -EINVAL);
    const long max_msg = lim.cap_sys_resource ? kHardMsgMax : lim.msg_max;
    const long max_size = lim.cap_sys_resource ? kHardMsgSizeMax : lim.msgsize_max;
    if (maxmsg > max_msg || msgsize > max_size) return g.fail(Rule::kMqOpenEinvalLimit, -EINVAL);
    info = std::make_shared<MqueueInode>(g, maxmsg, msgsize);
    ns.names.emplace(name, info);
    g.rule(Rule::kMqOpenCreated);
  } else {
    if ((oflag & (O_CREAT_ | O_EXCL_)) == (O_CREAT_ | O_EXCL_)) return g.fail(Rule::kMqOpenEexist, -EEXIST);
    if ((oflag & O_ACCMODE_) == O_ACCMODE_) return g.fail(Rule::kMqOpenEinvalAccmode, -EINVAL);
    info = it->second;  // inode_permission: the trace's process owns every queue (mode 0600)
  }
  return fdt.install(new MqueueFile(g, std::move(info), open_fmode(oflag), oflag & (O_NONBLOCK_ | O_CLOEXEC_)));
}

// mq_unlink: the name goes at once; the inode lives while a descriptor holds it.
long do_mq_unlink(Globals& g, MqNamespace& ns, const std::string& name) {
  const auto it = ns.names.find(name);
  if (it == ns.names.end()) return g.fail(Rule::kMqUnlinkEnoent, -ENOENT);
  ns.names.erase(it);
  g.rule(Rule::kMqUnlinked);
  return 0;
}

// do_mq_timedsend, in its order: priority, descriptor, size; then a full queue blocks (or
// EAGAIN), a waiting receiver takes the message directly (pipelined_send: the queue never
// holds it, no notification, no wait_q wakeup), else it is queued and __do_notify runs.
MaySleep do_mq_timedsend(Task& t, FdTable& fdt, int mqdes, size_t len, unsigned prio) {
  Globals& g = t.sched->globals();
  if (prio >= static_cast<unsigned long>(kMqPrioMax)) co_return g.fail(Rule::kMqSendEinvalPrio, -EINVAL);
  MqueueFile* f = mq_file(fdt, mqdes);
  if (!f || !(f->f_mode & FMODE_WRITE)) co_return g.fail(Rule::kMqSendEbadf, -EBADF);
  MqueueInode& info = *f->info;
  if (len > static_cast<size_t>(info.msgsize)) co_return g.fail(Rule::kMqSendEmsgsize, -EMSGSIZE);
  const MqMsg msg{static_cast<long>(len), prio};
  if (info.curmsgs == info.maxmsg) {
    if (f->nonblock()) co_return g.fail(Rule::kMqSendEagain, -EAGAIN);
    MqWaiter wait;
    wait.task = &t;
    wait.msg = msg;
    g.rule(Rule::kMqSendSleeps);
    co_return co_await wq_sleep(t, info, MQ_SEND, wait);
  }
  if (MqWaiter* receiver = wq_get_first_waiter(info, MQ_RECV)) {
    receiver->msg = msg;  // pipelined_send
    pipelined_op(info, *receiver, Rule::kMqPipelinedSend);
  } else {
    msg_insert(info, msg);
    g.rule(Rule::kMqSendQueued);
    do_notify(info);
  }
  co_return 0;
}

// do_mq_timedreceive: descriptor, buffer size; an empty queue blocks (or EAGAIN); else the
// message is taken and pipelined_receive moves a blocked sender's message in (waking it,
// not wait_q), or with no sender wakes wait_q for poll.
MaySleep do_mq_timedreceive(Task& t, FdTable& fdt, int mqdes, size_t len) {
  Globals& g = t.sched->globals();
  MqueueFile* f = mq_file(fdt, mqdes);
  if (!f || !(f->f_mode & FMODE_READ)) co_return g.fail(Rule::kMqReceiveEbadf, -EBADF);
  MqueueInode& info = *f->info;
  if (len < static_cast<size_t>(info.msgsize)) co_return g.fail(Rule::kMqReceiveEmsgsize, -EMSGSIZE);
  MqMsg msg;
  if (info.curmsgs == 0) {
    if (f->nonblock()) co_return g.fail(Rule::kMqReceiveEagain, -EAGAIN);
    MqWaiter wait;
    wait.task = &t;
    g.rule(Rule::kMqReceiveSleeps);
    if (const long ret = co_await wq_sleep(t, info, MQ_RECV, wait)) co_return ret;
    msg = wait.msg;
  } else {
    msg = msg_get(info);
    if (MqWaiter* sender = wq_get_first_waiter(info, MQ_SEND)) {  // pipelined_receive
      msg_insert(info, sender->msg);
      pipelined_op(info, *sender, Rule::kMqPipelinedReceive);
    } else {
      wake_up_interruptible_poll(info.wait_q, 0, Rule::kMqReceiveWakeWaitQ);  // wake_up_interruptible
    }
  }
  t.msg_prio = msg.prio;  // put_user(msg_ptr->m_type, u_msg_prio)
  co_return msg.len;
}

// do_mq_getsetattr with no new attributes: the old ones (the trace shows mq_curmsgs).
long do_mq_getattr(Globals& g, FdTable& fdt, int mqdes) {
  MqueueFile* f = mq_file(fdt, mqdes);
  if (!f) return g.fail(Rule::kMqGetattrEbadf, -EBADF);
  return f->info->curmsgs;
}

// do_mq_notify: the sigevent is checked first, then the descriptor; a null one unregisters
// the caller's process (silently nothing for another); one registrant at a time (EBUSY,
// also for the owner itself, and for a process that forked from it).
// kSigevThread (a netlink socket) is not in the trace language: the parser refuses it.
long do_mq_notify(Globals& g, Process& current, int mqdes, const int* notify) {
  if (notify && *notify != kSigevNone && *notify != kSigevSignal && *notify != kSigevThread)
    return g.fail(Rule::kMqNotifyEinval, -EINVAL);
  MqueueFile* f = mq_file(current.files, mqdes);
  if (!f) return g.fail(Rule::kMqNotifyEbadf, -EBADF);
  MqueueInode& info = *f->info;
  if (!notify) {
    if (info.notify_owner == &current) remove_notification(info);  // task_tgid(current)
    g.rule(Rule::kMqNotifyUnregister);
    return 0;
  }
  if (info.notify_owner) return g.fail(Rule::kMqNotifyEbusy, -EBUSY);
  info.sigev_notify = *notify;
  info.notify_owner = &current;  // get_pid(task_tgid(current))
  g.rule(Rule::kMqNotifyRegistered);
  return 0;
}

}  // namespace model

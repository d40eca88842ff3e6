// POSIX message queues: ipc/mqueue.c (ColinIanKing/linux-next 01c388b96358, 6.18+ tree with
// FD_ADD): the queue inode (mqueue_inode_info) with its priority tree (msg_insert, msg_get),
// mq_attr limits, the poll queue wait_q (mqueue_poll_file), notification (__do_notify,
// do_mq_notify, mqueue_flush_file), the sleeping senders and receivers (wq_add, wq_sleep,
// pipelined_send, pipelined_receive), and the names of the run's ipc namespace.
#pragma once
#include <boost/intrusive/list.hpp>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "file.h"
#include "sched.h"

namespace model {

// MQ_PRIO_MAX (include/uapi/linux/mqueue.h); HARD_MSGMAX, HARD_MSGSIZEMAX (ipc_namespace.h)
// (the limits of a creator with CAP_SYS_RESOURCE).
inline constexpr long kMqPrioMax = 32768;
inline constexpr long kHardMsgMax = 65536;
inline constexpr long kHardMsgSizeMax = 16L * 1024 * 1024;
inline constexpr int kSigevSignal = 0, kSigevNone = 1, kSigevThread = 2;  // SIGEV_*

// struct msg_msg as the queue keeps it: its length (m_ts) and priority (m_type); the bytes
// are filler and not kept.
struct MqMsg {
  long len = 0;
  unsigned prio = 0;
};

// struct ext_wait_queue: a task sleeping in mq_timedsend (SEND) or mq_timedreceive (RECV).
// It lives in the sleeping call's frame and unlinks itself if the call is abandoned.
struct MqWaiter {
  Task* task = nullptr;
  MqMsg msg;           // SEND: the message to queue; RECV: the message handed over
  bool ready = false;  // STATE_READY: a pipelined op completed the call
  bi::list_member_hook<bi::link_mode<bi::auto_unlink>> hook;
};
using MqWaitList = bi::list<MqWaiter, bi::member_hook<MqWaiter, decltype(MqWaiter::hook), &MqWaiter::hook>,
                            bi::constant_time_size<false>>;

// struct mqueue_inode_info. Held by the name (the dentry) and by every open file; when the
// last holder goes, mqueue_evict_inode gives the queue back to the namespace's count.
struct MqueueInode {
  MqueueInode(Globals& g, long maxmsg, long msgsize);
  ~MqueueInode();  // mqueue_evict_inode
  MqueueInode(const MqueueInode&) = delete;
  MqueueInode& operator=(const MqueueInode&) = delete;

  Globals* g;
  WaitQueueHead wait_q;  // poll and epoll wait here
  // msg_tree: one FIFO of messages per priority, highest priority served first.
  std::map<unsigned, std::deque<MqMsg>> msg_tree;
  long maxmsg, msgsize, curmsgs = 0;  // attr.mq_maxmsg, mq_msgsize, mq_curmsgs
  long qsize = 0;                     // bytes queued
  // notify_owner: the registered process (task_tgid of the registering task), or none.
  Process* notify_owner = nullptr;
  int sigev_notify = kSigevNone;
  MqWaitList e_wait_q[2];  // SEND, RECV: in wq_add order, served from the back
};

inline constexpr int MQ_SEND = 0, MQ_RECV = 1;

struct MqueueFile final : File {
  MqueueFile(Globals& g, std::shared_ptr<MqueueInode> info, unsigned mode, int flags);
  std::shared_ptr<MqueueInode> info;
  long f_pos = 0;                                      // mqueue_read_file's position
  poll_t poll(PollTable* pt) override;                 // mqueue_poll_file
  MaySleep read(Task& t, void* buf, size_t n) override;  // mqueue_read_file
  void flush(const Process& current) override;         // mqueue_flush_file
  std::string describe() const override { return "message queue"; }
};

// The queue names of the run's ipc namespace (the mqueue mount's root directory).
struct MqNamespace {
  std::map<std::string, std::shared_ptr<MqueueInode>, std::less<>> names;
};

// The system calls. attr: {maxmsg, msgsize} or null; notify: SIGEV_* or null (unregister).
long do_mq_open(Globals& g, MqNamespace& ns, FdTable& fdt, const std::string& name, int oflag, const long* attr);
long do_mq_unlink(Globals& g, MqNamespace& ns, const std::string& name);
MaySleep do_mq_timedsend(Task& t, FdTable& fdt, int mqdes, size_t len, unsigned prio);
MaySleep do_mq_timedreceive(Task& t, FdTable& fdt, int mqdes, size_t len);  // priority in t.msg_prio
long do_mq_getattr(Globals& g, FdTable& fdt, int mqdes);
// current: the calling task's process (its table, and the owner it registers or removes).
long do_mq_notify(Globals& g, Process& current, int mqdes, const int* notify);

}  // namespace model

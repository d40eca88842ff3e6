// The model's POSIX message queues (model/mqueue.*, ipc/mqueue.c): priority order, limits
// and errors in the kernel's order, notification, pipelined send and receive, the order
// of blocked tasks, flush and unlink. The kernel's answers are in traces/mqueue/.
#include <gtest/gtest.h>

#include "model_fixture.h"

namespace eo_test {
namespace {

constexpr int O_RDONLY_ = 0, O_WRONLY_ = 1, O_RDWR_ = 2;

struct MqSys : ModelSys {
  using ModelSys::ModelSys;
  long open(const std::string& name, int flags, long maxmsg = 0, long msgsize = 0) {
    const long attr[2] = {maxmsg, msgsize};
    return k.mq_open(main(), name, flags, maxmsg || msgsize ? attr : nullptr);
  }
  int queue(const std::string& name, long maxmsg = 0, long msgsize = 0, int flags = O_RDWR_ | O_NONBLOCK_) {
    const long fd = open(name, flags | O_CREAT_, maxmsg, msgsize);
    EXPECT_GE(fd, 0) << name;
    return static_cast<int>(fd);
  }
  long send(int q, size_t len, unsigned prio, const std::string& task = "main") {
    return k.mq_timedsend(t(task), q, len, prio);
  }
  // A receive that returns at once: {len, prio}, or {-errno, 0}.
  std::pair<long, unsigned> recv(int q, size_t len = 8192, const std::string& task = "main") {
    const long r = k.mq_timedreceive(t(task), q, len);
    EXPECT_NE(r, kBlocked);
    return {r, r >= 0 ? t(task).msg_prio : 0};
  }
  long notify(int q, int how, const std::string& task = "main") { return k.mq_notify(t(task), q, &how); }
  long unnotify(int q, const std::string& task = "main") { return k.mq_notify(t(task), q, nullptr); }
  long notifications(const std::string& task = "main") { return k.notifications(t(task)); }
};

using Msg = std::pair<long, unsigned>;

TEST(Mqueue, HighestPriorityFirstThenFifo) {
  MqSys s;
  const int q = s.queue("q");
  for (auto [len, prio] : {Msg{10, 1}, Msg{20, 5}, Msg{30, 1}, Msg{40, 5}, Msg{50, 0}}) EXPECT_EQ(s.send(q, len, prio), 0);
  EXPECT_EQ(s.k.mq_getattr(s.main(), q), 5);
  for (Msg m : {Msg{20, 5}, Msg{40, 5}, Msg{10, 1}, Msg{30, 1}, Msg{50, 0}}) EXPECT_EQ(s.recv(q), m);
  EXPECT_EQ(s.recv(q), Msg(-EAGAIN, 0));
}

TEST(Mqueue, OpenErrorsInTheKernelsOrder) {
  MqSys s;  // the default profile: no CAP_SYS_RESOURCE
  EXPECT_EQ(s.open("e", O_RDWR_), -ENOENT);
  EXPECT_EQ(s.open("e", O_RDWR_ | O_CREAT_, 0, 8192), -EINVAL);
  EXPECT_EQ(s.open("e", O_RDWR_ | O_CREAT_, 10, -1), -EINVAL);
  EXPECT_EQ(s.open("e", O_RDWR_ | O_CREAT_, 11, 64), -EINVAL);    // above msg_max
  EXPECT_EQ(s.open("e", O_RDWR_ | O_CREAT_, 10, 8193), -EINVAL);  // above msgsize_max
  const long q = s.open("e", O_RDWR_ | O_CREAT_ | O_EXCL_, 10, 64);
  ASSERT_GE(q, 0);
  EXPECT_EQ(s.open("e", O_RDWR_ | O_CREAT_ | O_EXCL_), -EEXIST);
  EXPECT_EQ(s.open("e", O_WRONLY_ | O_RDWR_), -EINVAL);
  EXPECT_EQ(s.k.globals().mq_queues_count, 1);

  KernelProfile cap;
  cap.mqueue.cap_sys_resource = true;  // HARD_MSGMAX, HARD_MSGSIZEMAX; queues_max ignored
  MqSys root(cap);
  EXPECT_GE(root.open("e", O_RDWR_ | O_CREAT_, 11, 64), 0);
  EXPECT_EQ(root.open("f", O_RDWR_ | O_CREAT_, 65537, 1), -EINVAL);
}

TEST(Mqueue, QueuesMaxWithoutTheCapabilityAndEvictionGivesItBack) {
  KernelProfile p;
  p.mqueue.queues_max = 2;
  MqSys s(p);
  const int a = s.queue("a"), b = s.queue("b");
  EXPECT_EQ(s.open("c", O_RDWR_ | O_CREAT_), -ENOSPC);
  EXPECT_EQ(s.k.mq_unlink(s.main(), "a"), 0);
  EXPECT_EQ(s.open("c", O_RDWR_ | O_CREAT_), -ENOSPC);  // a lives on while open
  EXPECT_EQ(s.close(a), 0);
  EXPECT_GE(s.open("c", O_RDWR_ | O_CREAT_), 0);
  EXPECT_EQ(s.close(b), 0);
  EXPECT_EQ(s.k.globals().mq_queues_count, 2);  // b keeps its name, c is open
}

TEST(Mqueue, SendAndReceiveChecksInTheKernelsOrder) {
  MqSys s;
  const int q = s.queue("q", 2, 64);
  const int r = static_cast<int>(s.open("q", O_RDONLY_ | O_NONBLOCK_));
  const int w = static_cast<int>(s.open("q", O_WRONLY_ | O_NONBLOCK_));
  const auto [pr, pw] = s.pipe();
  EXPECT_EQ(s.send(pw, 1, 32768), -EINVAL);  // the priority comes before the descriptor
  EXPECT_EQ(s.send(pw, 1, 0), -EBADF);
  EXPECT_EQ(s.send(r, 1, 0), -EBADF);
  EXPECT_EQ(s.send(w, 65, 0), -EMSGSIZE);
  EXPECT_EQ(s.recv(w, 64), Msg(-EBADF, 0));
  EXPECT_EQ(s.recv(q, 63), Msg(-EMSGSIZE, 0));
  EXPECT_EQ(s.send(w, 64, 0), 0);
  EXPECT_EQ(s.send(w, 64, 0), 0);
  EXPECT_EQ(s.send(w, 1, 0), -EAGAIN);
  EXPECT_EQ(s.k.mq_getattr(s.main(), pr), -EBADF);
  int how = kSigevSignal;
  EXPECT_EQ(s.k.mq_notify(s.main(), pr, &how), -EBADF);
}

TEST(Mqueue, NotifyFiresOnTheEdgeOnceAndAdmitsOneRegistrant) {
  MqSys s;
  const int q = s.queue("n");
  EXPECT_EQ(s.notify(q, kSigevSignal), 0);
  EXPECT_EQ(s.notify(q, kSigevSignal), -EBUSY);
  EXPECT_EQ(s.send(q, 1, 0), 0);
  EXPECT_EQ(s.notifications(), 1);
  EXPECT_EQ(s.notify(q, kSigevSignal), 0);  // one-shot: registered again
  EXPECT_EQ(s.send(q, 1, 0), 0);            // not empty before: no signal
  EXPECT_EQ(s.notifications(), 0);
  s.recv(q), s.recv(q);
  EXPECT_EQ(s.send(q, 1, 0), 0);
  EXPECT_EQ(s.notifications(), 1);
  s.recv(q);
  EXPECT_EQ(s.notify(q, kSigevNone), 0);
  EXPECT_EQ(s.send(q, 1, 0), 0);
  EXPECT_EQ(s.notifications(), 0);
  EXPECT_EQ(s.notify(q, kSigevSignal), 0);  // SIGEV_NONE was used up by the edge
  EXPECT_EQ(s.unnotify(q), 0);
  EXPECT_EQ(s.unnotify(q), 0);  // nothing registered: silently 0
}

TEST(Mqueue, AnyCloseByTheOwnerDropsTheRegistration) {
  MqSys s;
  const int q = s.queue("f");
  const int d = s.dup(q);
  EXPECT_EQ(s.notify(q, kSigevSignal), 0);
  EXPECT_EQ(s.close(d), 0);  // mqueue_flush_file
  EXPECT_EQ(s.send(q, 1, 0), 0);
  EXPECT_EQ(s.notifications(), 0);
  EXPECT_EQ(s.notify(q, kSigevSignal), 0);
}

// notify_owner is the registering task's process (task_tgid): __do_notify signals that
// process only, another process neither unregisters it nor drops it by closing its copy;
// the owner's exit does (exit_files -> filp_close -> mqueue_flush_file).
TEST(Mqueue, TheOwnerIsTheRegisteringProcess) {
  MqSys s;
  const int q = s.queue("o");
  s.k.fork(s.main(), "c");
  s.k.fork(s.main(), "d");
  EXPECT_EQ(s.notify(q, kSigevSignal, "c"), 0);
  EXPECT_EQ(s.notify(q, kSigevSignal), -EBUSY);
  EXPECT_EQ(s.unnotify(q), 0);  // not the owner: nothing
  EXPECT_EQ(s.k.close(s.t("d"), q), 0);  // another process's copy
  EXPECT_EQ(s.send(q, 1, 0), 0);
  EXPECT_EQ(s.notifications(), 0);
  EXPECT_EQ(s.notifications("c"), 1);
  s.recv(q);
  EXPECT_EQ(s.notify(q, kSigevSignal, "c"), 0);
  EXPECT_EQ(s.k.exit(s.t("c")), 0);  // the owner's table closed: dropped
  EXPECT_EQ(s.notify(q, kSigevSignal), 0);
}

TEST(Mqueue, PipelinedSendBypassesTheQueueTheNotificationAndPollers) {
  MqSys s;
  const int q = s.queue("p", 0, 0, O_RDWR_);
  const int ep = s.epoll();
  EXPECT_EQ(s.add(ep, q, EPOLLIN | EPOLLET), 0);
  EXPECT_TRUE(s.wait(ep).empty());
  EXPECT_EQ(s.notify(q, kSigevSignal), 0);
  EXPECT_EQ(s.k.mq_timedreceive(s.t("t1"), q, 8192), kBlocked);
  EXPECT_EQ(s.send(q, 5, 3), 0);
  EXPECT_FALSE(s.t("t1").pending);
  EXPECT_EQ(s.t("t1").result, 5);
  EXPECT_EQ(s.t("t1").msg_prio, 3u);
  EXPECT_TRUE(s.wait(ep).empty());
  EXPECT_EQ(s.notifications(), 0);
  EXPECT_EQ(s.k.mq_getattr(s.main(), q), 0);
  EXPECT_EQ(s.notify(q, kSigevSignal), -EBUSY);  // still registered
}

TEST(Mqueue, PipelinedReceiveMovesTheSendersMessageInAndWakesNoPoller) {
  MqSys s;
  const int q = s.queue("r", 1, 16, O_RDWR_);
  const int ep = s.epoll();
  EXPECT_EQ(s.send(q, 1, 0), 0);
  EXPECT_EQ(s.add(ep, q, EPOLLIN | EPOLLOUT | EPOLLET), 0);
  EXPECT_EQ(s.wait(ep), evs({{static_cast<uint64_t>(q), EPOLLIN}}));
  EXPECT_EQ(s.send(q, 2, 7, "t1"), kBlocked);
  EXPECT_EQ(s.recv(q, 16), Msg(1, 0));
  EXPECT_FALSE(s.t("t1").pending);
  EXPECT_EQ(s.t("t1").result, 0);
  EXPECT_TRUE(s.wait(ep).empty());
  EXPECT_EQ(s.recv(q, 16), Msg(2, 7));
  EXPECT_EQ(s.wait(ep), evs({{static_cast<uint64_t>(q), EPOLLOUT}}));
}

TEST(Mqueue, BlockedTasksAreServedInTheOrderTheyBlocked) {
  MqSys s;
  const int q = s.queue("w", 1, 16, O_RDWR_);
  for (const char* t : {"t1", "t2", "t3"}) EXPECT_EQ(s.k.mq_timedreceive(s.t(t), q, 16), kBlocked);
  for (unsigned i = 1; i <= 3; ++i) {
    EXPECT_EQ(s.send(q, i, 9 - i), 0);
    const std::string t = "t" + std::to_string(i);
    EXPECT_FALSE(s.t(t).pending) << t;
    EXPECT_EQ(s.t(t).result, static_cast<long>(i)) << t;
  }
  EXPECT_EQ(s.send(q, 1, 0), 0);
  EXPECT_EQ(s.send(q, 2, 1, "t4"), kBlocked);
  EXPECT_EQ(s.send(q, 3, 9, "t5"), kBlocked);
  EXPECT_EQ(s.recv(q, 16), Msg(1, 0));
  EXPECT_FALSE(s.t("t4").pending);  // the first blocked sender, whatever the priorities
  EXPECT_TRUE(s.t("t5").pending);
}

TEST(Mqueue, ASignalEndsABlockedReceiveAndItsWaiterLeaves) {
  MqSys s;
  const int q = s.queue("s", 0, 0, O_RDWR_);
  EXPECT_EQ(s.k.mq_timedreceive(s.t("t1"), q, 8192), kBlocked);
  s.k.interrupt(s.t("t1"));
  EXPECT_FALSE(s.t("t1").pending);
  EXPECT_EQ(s.t("t1").result, -EINTR);
  EXPECT_EQ(s.send(q, 4, 0), 0);  // queued: nobody waits any more
  EXPECT_EQ(s.k.mq_getattr(s.main(), q), 1);
}

TEST(Mqueue, UnlinkRemovesTheNameTheQueueLivesWhileOpen) {
  MqSys s;
  const int q = s.queue("u");
  EXPECT_EQ(s.send(q, 7, 2), 0);
  EXPECT_EQ(s.k.mq_unlink(s.main(), "u"), 0);
  EXPECT_EQ(s.k.mq_unlink(s.main(), "u"), -ENOENT);
  EXPECT_EQ(s.open("u", O_RDWR_), -ENOENT);
  EXPECT_EQ(s.recv(q), Msg(7, 2));
  EXPECT_EQ(s.k.globals().mq_queues_count, 1);
  EXPECT_EQ(s.close(q), 0);
  EXPECT_EQ(s.k.globals().mq_queues_count, 0);  // mqueue_evict_inode
}

TEST(Mqueue, PollShowsInWhileQueuedAndOutWhileRoom) {
  MqSys s;
  const int q = s.queue("k", 2, 8);
  EXPECT_EQ(s.poll1(q, EPOLLIN | EPOLLOUT | EPOLLPRI | EPOLLRDHUP), EPOLLOUT);  // same bits for poll
  EXPECT_EQ(s.send(q, 1, 0), 0);
  EXPECT_EQ(s.mask(q), EPOLLIN | EPOLLRDNORM | EPOLLOUT | EPOLLWRNORM);
  EXPECT_EQ(s.send(q, 1, 0), 0);
  EXPECT_EQ(s.mask(q), EPOLLIN | EPOLLRDNORM);
}

}  // namespace
}  // namespace eo_test

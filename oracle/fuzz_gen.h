// Generation of random traces for the differential search: RapidCheck generates a list of
// abstract operations, and to_program() turns any list (also every shrunk sublist) into a
// valid program, resolving operands against what exists at that point.
#pragma once
#include <rapidcheck.h>

#include <cstdint>
#include <vector>

#include "common/program.h"

namespace eo {

struct FuzzOp {
  enum class Kind : uint8_t {
    kPipe, kSocketpair, kEventfd, kEpoll, kBadCreate, kDup, kClose, kRead, kWrite, kFill, kDrain,
    kEfdWrite, kEfdRead, kShutdown, kCtl, kWait, kPoll, kTaskWait, kTaskRead, kTaskPoll, kTaskWrite,
    kSockCall,  // a call of the sockets with addresses (socket, bind, listen, connect, accept4, *sockopt)
    kListener, kConnect, kAccept, kTaskConnect,  // AF_UNIX listeners and their clients (kTaskAccept below)
    // TCP on loopback: a listener, a client connecting (or refused), an accept by main, an
    // option (SO_LINGER 0 for RST, SO_RCVLOWAT, SO_ERROR), a task blocked in accept.
    kTcpListen, kTcpConnect, kTcpAccept, kTcpOpt, kTaskAccept,
    kFork, kChild,  // main forks a child; a child closes, writes, reads, waits, deletes or exits
    kMqOpen, kMqUnlink, kMqSend, kMqReceive, kMqGetattr, kMqNotify, kNotifications, kTaskMqSend, kTaskMqReceive,
    kChildMq,  // a child's queue call: mq_notify, notifications(), a send or receive, mq_open by name
    // AF_UNIX datagram sockets with names: a bound receiver; a sender connected (or
    // reconnected) by name, many to one.
    kDgramReceiver, kDgramConnect,
    // UDP on loopback: a socket (bound, or bound and closed: a port nobody has), a connect
    // to one of them, an option or a bind that conflicts (SO_RCVBUF, SO_SNDBUF, SO_ERROR).
    kUdpSocket, kUdpConnect, kUdpOpt,
    // A scenario: a deep state in one go (N waiters on one epoll, exclusive registrations
    // on several epolls each with a waiter, a nested chain with waiters at several levels,
    // a full pipe or socket with a blocked writer, blocked readers of several types,
    // dup/fork/close around a registration, a listener with connecting and accepting
    // tasks, a queue with blocked senders and receivers); variant % 8 chooses.
    kScenario,
  };
  Kind kind = Kind::kPipe;
  uint8_t a = 0;        // first operand pick (index among candidates, modulo their count)
  uint8_t b = 0;        // second operand pick
  uint8_t variant = 0;  // flags / op / how variant
  uint32_t mask = 0;    // epoll or poll events
  int64_t n = 0;        // size, value, maxevents, timeout
  uint8_t task = 0;     // task index for the kTask* kinds
  friend bool operator==(const FuzzOp&, const FuzzOp&) = default;
};

using FuzzCase = std::vector<FuzzOp>;

// A generator of cases: creations first weighted up, then a body that favours ready
// lists, ET re-fires, ONESHOT items, exclusive waiters and tasks harvesting.
rc::Gen<FuzzCase> gen_fuzz_case();

// The program of a case: creating calls bind names (p0r, p0w, s1a, s1b, e2, ep3, d4...),
// the main task never makes a call that could sleep, each of the tasks t1..t4 makes at
// most one pending call; main forks children p0, p1 (each one task of its own process),
// whose calls never sleep either and use only the names their table copied and the
// queues they opened by name themselves. No results are written: executors are compared
// with each other.
Program to_program(const FuzzCase& c);

}  // namespace eo

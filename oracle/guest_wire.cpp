#include "guest_wire.h"

namespace eo {

using nlohmann::json;

namespace {

json outcome_json(const Outcome& o) {
  json events = json::array();
  for (const EventSpec& e : o.events) events.push_back({e.name, e.mask});
  return {{"kind", static_cast<int>(o.kind)}, {"ret", o.ret}, {"fds", o.fds}, {"events", events}, {"numbers", o.numbers}};
}

Outcome outcome_from(const json& j) {
  Outcome o;
  const int kind = j.at("kind").get<int>();
  if (kind < 0 || kind > static_cast<int>(Outcome::Kind::kStuck)) throw json::other_error::create(501, "bad outcome kind", &j);
  o.kind = static_cast<Outcome::Kind>(kind);
  o.ret = j.at("ret").get<int64_t>();
  o.fds = j.at("fds").get<std::vector<int>>();
  for (const json& e : j.at("events")) o.events.push_back({e.at(0).get<std::string>(), e.at(1).get<uint32_t>()});
  o.numbers = j.at("numbers").get<std::vector<int64_t>>();  // mq_receive's [LEN, PRIO]
  return o;
}

}  // namespace

json to_json(const RunResult& r) {
  json steps = json::array();
  for (const StepObservation& s : r.steps) {
    json returned = json::array();
    for (const TaskReturn& t : s.returned) returned.push_back({{"task", t.task}, {"step", t.step}, {"outcome", outcome_json(t.outcome)}});
    steps.push_back({{"outcome", outcome_json(s.outcome)}, {"returned", returned}, {"still_blocked", s.still_blocked}});
  }
  return {{"steps", steps}, {"error", r.error}, {"stopped_at", r.stopped_at}};
}

RunResult run_from_json(const json& j) {
  RunResult r;
  for (const json& s : j.at("steps")) {
    StepObservation o;
    o.outcome = outcome_from(s.at("outcome"));
    for (const json& t : s.at("returned")) {
      o.returned.push_back({t.at("task").get<std::string>(), outcome_from(t.at("outcome")), t.at("step").get<int>()});
    }
    o.still_blocked = s.at("still_blocked").get<std::vector<std::string>>();
    r.steps.push_back(std::move(o));
  }
  r.error = j.at("error").get<std::string>();
  r.stopped_at = j.at("stopped_at").get<int>();
  return r;
}

json to_json(const real::Calibration& c) {
  json samples = json::array();
  for (const real::UnixSample& s : c.samples) samples.push_back({s.requested, s.written, s.outq});
  return {{"page_size", c.page_size},
          {"pipe_capacity", c.pipe_capacity},
          {"pipe_def_buffers", c.pipe_def_buffers},
          {"max_user_watches", c.max_user_watches},
          {"unix_max_dgram_qlen", c.unix_max_dgram_qlen},
          {"rlimit_nofile", c.rlimit_nofile},
          {"nr_open", c.nr_open},
          {"nr_cpus", c.nr_cpus},
          {"config", {{"source", c.config.source}, {"watch_queue", c.config.watch_queue}, {"preempt", c.config.preempt}}},
          {"af_unix",
           {{"sndbuf", c.af_unix.sndbuf},
            {"sk_buff_size", c.af_unix.sk_buff_size},
            {"shinfo_size", c.af_unix.shinfo_size},
            {"frags_size", c.af_unix.frags_size}}},
          {"tcp",
           {{"wmem_default", c.tcp.wmem_default},
            {"wmem_max", c.tcp.wmem_max},
            {"rmem_default", c.tcp.rmem_default},
            {"rmem_max", c.tcp.rmem_max},
            {"somaxconn", c.tcp.somaxconn},
            {"core_wmem_max", c.tcp.core_wmem_max},
            {"core_rmem_max", c.tcp.core_rmem_max},
            {"fill_total", c.tcp.fill_total},
            {"rcv_capacity", c.tcp.rcv_capacity},
            {"snd_capacity", c.tcp.snd_capacity},
            {"sndbuf_settled", c.tcp.sndbuf_settled}}},
          {"mqueue",
           {{"msg_max", c.mqueue.msg_max},
            {"msgsize_max", c.mqueue.msgsize_max},
            {"queues_max", c.mqueue.queues_max},
            {"msg_default", c.mqueue.msg_default},
            {"msgsize_default", c.mqueue.msgsize_default},
            {"cap_sys_resource", c.mqueue.cap_sys_resource}}},
          {"udp",
           {{"rmem_default", c.udp.rmem_default},
            {"wmem_default", c.udp.wmem_default},
            {"steps", c.udp.steps},
            {"paged_from", c.udp.paged_from},
            {"paged_extra", c.udp.paged_extra}}},
          {"samples", samples}};
}

real::Calibration calibration_from_json(const json& j) {
  real::Calibration c;
  c.page_size = j.at("page_size").get<int>();
  c.pipe_capacity = j.at("pipe_capacity").get<int>();
  c.pipe_def_buffers = j.at("pipe_def_buffers").get<int>();
  c.max_user_watches = j.at("max_user_watches").get<long>();
  c.unix_max_dgram_qlen = j.at("unix_max_dgram_qlen").get<int>();
  c.rlimit_nofile = j.at("rlimit_nofile").get<long>();
  c.nr_open = j.at("nr_open").get<long>();
  c.nr_cpus = j.at("nr_cpus").get<int>();
  const json& cfg = j.at("config");
  c.config.source = cfg.at("source").get<std::string>();
  c.config.watch_queue = cfg.at("watch_queue").get<bool>();
  c.config.preempt = cfg.at("preempt").get<std::string>();
  const json& u = j.at("af_unix");
  c.af_unix = {u.at("sndbuf").get<int>(), u.at("sk_buff_size").get<int>(), u.at("shinfo_size").get<int>(),
               u.at("frags_size").get<int>()};
  const json& t = j.at("tcp");
  c.tcp = {.wmem_default = t.at("wmem_default").get<int>(),
           .wmem_max = t.at("wmem_max").get<int>(),
           .rmem_default = t.at("rmem_default").get<int>(),
           .rmem_max = t.at("rmem_max").get<int>(),
           .somaxconn = t.at("somaxconn").get<int>(),
           .core_wmem_max = t.at("core_wmem_max").get<int>(),
           .core_rmem_max = t.at("core_rmem_max").get<int>(),
           .fill_total = t.at("fill_total").get<long>(),
           .rcv_capacity = t.at("rcv_capacity").get<long>(),
           .snd_capacity = t.at("snd_capacity").get<long>(),
           .sndbuf_settled = t.at("sndbuf_settled").get<int>()};
  const json& q = j.at("mqueue");
  c.mqueue = {.msg_max = q.at("msg_max").get<long>(),
              .msgsize_max = q.at("msgsize_max").get<long>(),
              .queues_max = q.at("queues_max").get<long>(),
              .msg_default = q.at("msg_default").get<long>(),
              .msgsize_default = q.at("msgsize_default").get<long>(),
              .cap_sys_resource = q.at("cap_sys_resource").get<bool>()};
  const json& d = j.at("udp");
  c.udp = {.rmem_default = d.at("rmem_default").get<int>(),
           .wmem_default = d.at("wmem_default").get<int>(),
           .steps = d.at("steps").get<std::vector<std::pair<int, int>>>(),
           .paged_from = d.at("paged_from").get<int>(),
           .paged_extra = d.at("paged_extra").get<int>()};
  for (const json& s : j.at("samples")) c.samples.push_back({s.at(0).get<int>(), s.at(1).get<int>(), s.at(2).get<int>()});
  return c;
}

json to_json(const real::SocketpairErrnos& table) {
  json rows = json::array();
  for (const auto& row : table) rows.push_back(row);
  return rows;
}

real::SocketpairErrnos families_from_json(const json& j) {
  real::SocketpairErrnos table;
  for (const json& row : j) table.push_back(row.get<std::array<int, real::kProbedTypes>>());
  return table;
}

}  // namespace eo

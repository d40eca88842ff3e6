#include "chromium_render.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <thread>

#include "png_pixels.h"

extern char** environ;

namespace fs = std::filesystem;

namespace eo::test {

namespace {

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Runs chromium with args, stdout and stderr into files; its own process group, killed
// whole after 60 s. Returns "" when it exited 0, else what happened.
std::string run_chromium(const std::vector<std::string>& args, const fs::path& out, const fs::path& err) {
  std::vector<std::string> words = {"chromium"};
  words.insert(words.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& w : words) argv.push_back(w.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_addopen(&fa, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
  posix_spawnattr_setpgroup(&attr, 0);
  pid_t pid = -1;
  const int rc = posix_spawnp(&pid, "chromium", &fa, &attr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  if (rc == ENOENT) return "chromium not found in PATH (Debian package chromium, see scripts/install-deps.sh)";
  if (rc != 0) return std::string("cannot start chromium: ") + std::strerror(rc);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  int status = 0;
  for (;;) {
    const pid_t w = waitpid(pid, &status, WNOHANG);
    if (w == pid) break;
    if (w < 0 && errno != EINTR) return "waitpid failed";
    if (std::chrono::steady_clock::now() > deadline) {
      kill(-pid, SIGKILL);  // the group this run made: chromium and its helpers
      waitpid(pid, &status, 0);
      return "chromium did not finish within 60 s";
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return "";
  return "chromium failed: " + slurp(err).substr(0, 2000);
}

}  // namespace

RenderResult render_svg(const std::string& svg) {
  RenderResult r;
  std::string templ = (fs::temp_directory_path() / "eo-chromium-XXXXXX").string();
  if (!mkdtemp(templ.data())) {
    r.error = "mkdtemp failed";
    return r;
  }
  const fs::path dir = templ;
  r.temp_dir = templ;
  const std::string url = "file://" + fs::absolute(svg).string();
  const std::vector<std::string> common = {"--headless", "--no-sandbox",  // root in CI: no sandbox
                                           "--disable-gpu", "--no-first-run", "--user-data-dir=" + (dir / "profile").string()};
  std::vector<std::string> dom_args = common;
  dom_args.insert(dom_args.end(), {"--dump-dom", url});
  std::vector<std::string> shot_args = common;
  shot_args.insert(shot_args.end(), {"--enable-logging=stderr", "--v=0", "--window-size=900,560",
                                     "--screenshot=" + (dir / "shot.png").string(), url});
  r.error = run_chromium(dom_args, dir / "dom.html", dir / "dom.err");
  if (r.error.empty()) r.error = run_chromium(shot_args, dir / "shot.out", dir / "shot.err");
  if (r.error.empty()) {
    r.ran = true;
    const std::string dom = slurp(dir / "dom.html");
    if (dom.find("<parsererror") != std::string::npos) r.problems.push_back("Chromium could not parse the SVG: " + dom.substr(0, 600));
    if (dom.find("<svg") == std::string::npos) r.problems.push_back("no <svg> element in the rendered document");
    std::istringstream log(slurp(dir / "shot.err"));
    for (std::string line; std::getline(log, line);) {
      if (line.find(":CONSOLE") != std::string::npos) r.problems.push_back("console message: " + line);
    }
    Pixels px;
    std::string png_error;
    if (!read_png((dir / "shot.png").string(), &px, &png_error)) {
      r.problems.push_back("screenshot: " + png_error);
    } else {
      const ColourCount c = count_colours(px);
      r.colours = c.colours;
      r.off_background = c.off_background;
      if (c.colours < 2) r.problems.push_back("blank screenshot: one colour only");
    }
  }
  std::error_code ec;
  fs::remove_all(dir, ec);
  return r;
}

}  // namespace eo::test

// Finding traces: files and directories given on the command line, or the shipped corpus.
#pragma once
#include <string>
#include <vector>

namespace eo {

// The corpus used when no path is given: $EPOLL_ORACLE_TRACES if set, else the source
// tree's traces/ (the shipped corpus).
std::string default_corpus_dir();
// The source tree's traces/.
std::string shipped_corpus_dir();

// Every *.trace file under the paths (directories recursively, in sorted order); a path
// that is not a directory is taken as a trace whatever it is (reading it says what is
// wrong), `-` too. A path that does not exist is reported in *missing.
std::vector<std::string> find_traces(const std::vector<std::string>& paths, std::vector<std::string>* missing);

// A path shown relative to the corpus directory when it lies inside it.
std::string display_path(const std::string& path, const std::string& corpus_dir);

// Reads a whole file; false if it cannot be read.
bool read_file(const std::string& path, std::string* out);

}  // namespace eo

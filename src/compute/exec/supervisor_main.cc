// openlab-supervise: the job supervisor on its own (compute/exec/supervisor.h). The local
// executor starts one for every job; it links only the executor layer, so it starts in a
// fraction of the time the whole openlab binary takes (`openlab supervise` runs the same code).
#include <cstring>
#include <iostream>

#include "compute/exec/supervisor.h"

int main(int argc, char** argv) {
  if (argc == 3 && std::strcmp(argv[1], "supervise") == 0) {
    return openlab::compute::RunSupervisor(argv[2]);
  }
  if (argc == 4 && std::strcmp(argv[1], "supervise") == 0 &&
      std::strcmp(argv[2], "--detach") == 0) {
    return openlab::compute::RunSupervisor(argv[3], true);
  }
  if (argc == 3 && std::strcmp(argv[1], "slurm-job") == 0) {
    return openlab::compute::RunOnSlurmNode(argv[2]);
  }
  std::cerr << "usage: " << argv[0] << " supervise [--detach] JOB_DIR | slurm-job JOB_DIR\n";
  return 2;
}

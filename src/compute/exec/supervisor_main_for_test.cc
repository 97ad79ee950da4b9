// A stand-in for `openlab supervise JOB_DIR` and `openlab slurm-job JOB_DIR`, so executor tests
// need no change to main.cc.
// Test-only: built as executor_test_supervisor.
#include <cstring>
#include <iostream>

#include "compute/exec/supervisor.h"

int main(int argc, char** argv) {
  if (argc == 3 && std::strcmp(argv[1], "supervise") == 0) {
    return openlab::compute::RunSupervisor(argv[2]);
  }
  if (argc == 3 && std::strcmp(argv[1], "slurm-job") == 0) {
    return openlab::compute::RunOnSlurmNode(argv[2]);
  }
  std::cerr << "usage: " << argv[0] << " supervise|slurm-job JOB_DIR\n";
  return 2;
}

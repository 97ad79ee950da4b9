// Reading a job's output beneath the jobs root (job_use_cases.h ReadJobLog). Submit and cancel
// run through the API tests (http/api_test.cc).
#include "compute/job_use_cases.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace openlab::compute {
namespace {

class ReadJobLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "openlab-logs-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    root_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(root_); }
  void Write(const std::string& rel, const std::string& data) {
    std::filesystem::create_directories(std::filesystem::path(root_ + "/" + rel).parent_path());
    std::ofstream(root_ + "/" + rel) << data;
  }
  std::string root_;
};

TEST_F(ReadJobLogTest, ReadsARangeOfTheLatestRun) {
  Write("job_1/stdout", "first run");
  Write("job_1.r1/stdout", "0123456789");
  Write("job_1.r1/stderr", "oops");
  EXPECT_EQ(ReadJobLog(root_, "job_1", LogStream::kStdout, 0, 1 << 20), "0123456789");
  EXPECT_EQ(ReadJobLog(root_, "job_1", LogStream::kStdout, 3, 4), "3456");
  EXPECT_EQ(ReadJobLog(root_, "job_1", LogStream::kStdout, 8, 100), "89");
  EXPECT_EQ(ReadJobLog(root_, "job_1", LogStream::kStdout, 50, 100), "");
  EXPECT_EQ(ReadJobLog(root_, "job_1", LogStream::kStderr, 0, 100), "oops");
}

TEST_F(ReadJobLogTest, NothingWrittenYetReadsAsNoBytes) {
  EXPECT_EQ(ReadJobLog(root_, "job_2", LogStream::kStdout, 0, 100), "");
  EXPECT_EQ(ReadJobLog("", "job_2", LogStream::kStdout, 0, 100), "");
}

TEST_F(ReadJobLogTest, RefusesLinksAndFilesThatAreNotRegular) {
  Write("secret", "operator's token");
  Write("job_3/keep", "");
  ASSERT_EQ(symlink((root_ + "/secret").c_str(), (root_ + "/job_3/stdout").c_str()), 0);
  EXPECT_EQ(ReadJobLog(root_, "job_3", LogStream::kStdout, 0, 100), "");
  ASSERT_EQ(mkfifo((root_ + "/job_3/stderr").c_str(), 0600), 0);
  EXPECT_EQ(ReadJobLog(root_, "job_3", LogStream::kStderr, 0, 100), "");  // and does not hang
  Write("elsewhere/stdout", "not this job's");
  ASSERT_EQ(symlink((root_ + "/elsewhere").c_str(), (root_ + "/job_4").c_str()), 0);
  EXPECT_EQ(ReadJobLog(root_, "job_4", LogStream::kStdout, 0, 100), "");
}

}  // namespace
}  // namespace openlab::compute

// The thread count from OMP_NUM_THREADS: unset or empty gives the fallback, a
// positive integer itself, anything else an error naming the variable.
#include "util/threads.h"

#include <gtest/gtest.h>

#include <string>

#include "util/error.h"

namespace haq::util {
namespace {

TEST(ThreadsTest, OmpNumThreadsOrTheFallback) {
  EXPECT_EQ(ThreadsFromEnvironment(nullptr, 2), 2);
  EXPECT_EQ(ThreadsFromEnvironment("", 2), 2);
  EXPECT_EQ(ThreadsFromEnvironment("1", 2), 1);
  EXPECT_EQ(ThreadsFromEnvironment("16", 2), 16);
  EXPECT_EQ(ThreadsFromEnvironment("4096", 2), 4096);
  for (const char* bad : {"0", "-1", "two", "2x", " 2", "4097", "99999999999"}) {
    try {
      ThreadsFromEnvironment(bad, 2);
      ADD_FAILURE() << bad << ": no error";
    } catch (const InputError& e) {
      EXPECT_EQ(std::string(e.what()),
                std::string("OMP_NUM_THREADS: expected a thread count in 1..4096, got '") + bad +
                    "'");
    }
  }
}

}  // namespace
}  // namespace haq::util

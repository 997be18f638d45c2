// `duet say` end to end through CLI11: writes a WAV where asked, at the asked rate, prints one
// line naming it; bad arguments fail cleanly. Must never write outside its temporary folder.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "audio/wav.hpp"
#include "cli/commands.hpp"
#include "core/error.hpp"

namespace duet {
namespace {

namespace fs = std::filesystem;

class SayCommand : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           (std::string("duet_say_") +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Runs `duet say <args...>`; returns what it printed on stdout.
  std::string run(std::vector<std::string> args) {
    args.insert(args.begin(), {"duet", "say"});
    std::vector<char*> argv;
    for (std::string& arg : args) argv.push_back(arg.data());
    CLI::App app{"test"};
    app.require_subcommand(1);
    cli::add_say_command(app);
    ::testing::internal::CaptureStdout();
    try {
      app.parse(static_cast<int>(argv.size()), argv.data());
    } catch (...) {
      ::testing::internal::GetCapturedStdout();
      throw;
    }
    return ::testing::internal::GetCapturedStdout();
  }

  fs::path dir_;
};

TEST_F(SayCommand, WritesTheWavAndReportsIt) {
  const fs::path out = dir_ / "hello.wav";
  const std::string printed = run({"Hello from Duet.", "-o", out.string()});
  const AudioBuffer audio = read_wav(out);
  EXPECT_EQ(audio.sample_rate, 22050);
  EXPECT_EQ(audio.channels, 1);
  EXPECT_GT(audio.duration_seconds(), 0.3);
  EXPECT_NE(printed.find(out.string()), std::string::npos) << printed;
  EXPECT_NE(printed.find("22050 Hz"), std::string::npos) << printed;
  EXPECT_NE(printed.find(" s,"), std::string::npos) << printed;
  EXPECT_EQ(printed.find('\n'), printed.size() - 1) << "exactly one line: " << printed;
}

TEST_F(SayCommand, ResamplesToTheRequestedRateWithVoiceAndProsody) {
  const fs::path out = dir_ / "resampled.wav";
  const std::string printed = run({"Testing the rate option.", "--output", out.string(), "--rate",
                                   "16000", "--voice", "espeak:en+f3", "--speed", "200",
                                   "--pitch", "70"});
  const AudioBuffer audio = read_wav(out);
  EXPECT_EQ(audio.sample_rate, 16000);
  EXPECT_NE(printed.find("16000 Hz"), std::string::npos) << printed;
}

TEST_F(SayCommand, DefaultsToSayWavInTheCurrentFolder) {
  const fs::path previous = fs::current_path();
  fs::current_path(dir_);
  std::string printed;
  EXPECT_NO_THROW(printed = run({"Default output."}));
  fs::current_path(previous);
  EXPECT_TRUE(fs::exists(dir_ / "say.wav"));
  EXPECT_NE(printed.find("say.wav"), std::string::npos);
}

TEST_F(SayCommand, BadArgumentsFailCleanly) {
  EXPECT_THROW(run({"text", "--voice", "nosuchengine"}), Error);
  EXPECT_THROW(run({"   ", "-o", (dir_ / "x.wav").string()}), Error);
  EXPECT_THROW(run({"text", "--pitch", "150"}), CLI::ParseError);
  EXPECT_THROW(run({"text", "--rate", "12"}), CLI::ParseError);
  EXPECT_THROW(run({}), CLI::ParseError);
  EXPECT_FALSE(fs::exists(dir_ / "x.wav"));
}

}  // namespace
}  // namespace duet

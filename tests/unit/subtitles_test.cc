#include "gateway/openai/subtitles.h"

#include <gtest/gtest.h>

namespace botmodels {
namespace {

TEST(Subtitles, SubRipNumbersCuesAndTimesThemWithCommas) {
  const std::string srt = SubRip({{0, 1.5, "Hello."}, {61.25, 3723.004, "Two\nlines"}});
  EXPECT_EQ(srt,
            "1\n00:00:00,000 --> 00:00:01,500\nHello.\n\n"
            "2\n00:01:01,250 --> 01:02:03,004\nTwo\nlines\n\n");
}

TEST(Subtitles, WebVttStartsWithItsHeaderAndTimesWithDots) {
  EXPECT_EQ(WebVtt({{2.0004, 4, "Hi"}}), "WEBVTT\n\n00:00:02.000 --> 00:00:04.000\nHi\n\n");
  EXPECT_EQ(WebVtt({}), "WEBVTT\n\n");
}

TEST(Subtitles, BlankLinesInATextWouldEndItsCueAndAreDropped) {
  EXPECT_EQ(SubRip({{0, 1, "a\n\n  \r\nb"}}), "1\n00:00:00,000 --> 00:00:01,000\na\nb\n\n");
}

TEST(Subtitles, NegativeTimesAndEndsBeforeStartsAreClamped) {
  EXPECT_EQ(SubRip({{-1, -2, "x"}}), "1\n00:00:00,000 --> 00:00:00,000\nx\n\n");
  EXPECT_EQ(WebVtt({{5, 4, "x"}}), "WEBVTT\n\n00:00:05.000 --> 00:00:05.000\nx\n\n");
  EXPECT_NE(SubRip({{360000, 360001, "x"}}).find("100:00:00,000 --> 100:00:01,000"),
            std::string::npos)
      << "hours past 99 keep their digits";
}

}  // namespace
}  // namespace botmodels

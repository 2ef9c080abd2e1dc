#include <doctest/doctest.h>

#include <string>

#include "stella/common/error.hpp"
#include "stella/common/names.hpp"

using stella::Errc;
using stella::Error;

TEST_CASE("valid segment names pass") {
  for (const char* n : {"a", "telemetry", "Market.Data_v2-1", "x.y", "0"}) {
    CHECK_MESSAGE(stella::segment_name_problem(n).empty(), n);
    CHECK_NOTHROW(stella::validate_segment_name(n));
  }
  CHECK(stella::segment_name_problem(std::string(64, 'a')).empty());
}

TEST_CASE("each invalid name is refused with invalid_name and the reason") {
  struct Case {
    std::string name;
    std::string reason_part;
  };
  const Case cases[] = {
      {"", "empty"},
      {std::string(65, 'a'), "at most 64"},
      {"a/b", "not a path"},
      {"/abs", "not a path"},
      {"..", "\"..\""},
      {"a..b", "\"..\""},
      {".", "\".\""},
      {"sp ace", "outside"},
      {"t\xc3\xa9l", "outside"},
      {"a\\b", "not a path"},
      {"semi;colon", "outside"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.name);
    try {
      stella::validate_segment_name(c.name);
      FAIL("accepted an invalid name");
    } catch (const Error& e) {
      CHECK(e.code() == Errc::invalid_name);
      CHECK(std::string(e.what()).find(c.reason_part) != std::string::npos);
    }
  }
}

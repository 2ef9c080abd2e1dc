// Value syntax: sizes, durations, modes and their formatting.
#include <doctest/doctest.h>

#include <chrono>
#include <cstdint>
#include <string>

#include "stella/config/config.hpp"

using namespace std::chrono_literals;
using stella::config::Duration;
using stella::config::format_duration;
using stella::config::format_mode;
using stella::config::format_size;
using stella::config::LagThreshold;
using stella::config::parse_duration;
using stella::config::parse_size;

TEST_CASE("config_units: every size unit, binary and decimal") {
  struct Case {
    const char* text;
    std::uint64_t bytes;
  };
  const Case cases[] = {
      {"0", 0},
      {"4096", 4096},
      {"1B", 1},
      {"7B", 7},
      {"1KiB", 1024},
      {"64MiB", 64ULL << 20},
      {"64 MiB", 64ULL << 20},
      {"3GiB", 3ULL << 30},
      {"1TiB", 1ULL << 40},
      {"1KB", 1000},
      {"5MB", 5'000'000},
      {"2GB", 2'000'000'000},
      {"1TB", 1'000'000'000'000},
  };
  for (const Case& c : cases) {
    std::string why;
    const auto bytes = parse_size(c.text, &why);
    INFO(c.text, " ", why);
    REQUIRE(bytes.has_value());
    CHECK(*bytes == c.bytes);
  }
}

TEST_CASE("config_units: bad sizes say what is wrong") {
  struct Case {
    const char* text;
    const char* fragment;
  };
  const Case cases[] = {
      {"", "starts with a whole number"},
      {"MiB", "starts with a whole number"},
      {"-1MiB", "starts with a whole number"},
      {"1.5MiB", "fractional"},
      {"64MBs", "bad unit \"MBs\" (expected B, KiB, MiB, GiB, TiB, KB, MB, GB, TB)"},
      {"64mib", "did you mean \"MiB\""},
      {"64kb", "did you mean \"KB\""},
      {"64 ", "bad unit \" \""},
      {"18446744073709551616", "too large"},
      {"20000000TiB", "too large"},
  };
  for (const Case& c : cases) {
    std::string why;
    INFO(c.text);
    CHECK_FALSE(parse_size(c.text, &why).has_value());
    INFO(why);
    CHECK(why.find(c.fragment) != std::string::npos);
  }
  CHECK_FALSE(parse_size("x").has_value());  // the reason is optional
}

TEST_CASE("config_durations: every duration unit") {
  CHECK(parse_duration("10ns") == Duration(10ns));
  CHECK(parse_duration("500us") == Duration(500us));
  CHECK(parse_duration("100ms") == Duration(100ms));
  CHECK(parse_duration("2s") == Duration(2s));
  CHECK(parse_duration("1m") == Duration(1min));
  CHECK(parse_duration("3h") == Duration(3h));
  CHECK(parse_duration("0ms") == Duration(0));
}

TEST_CASE("config_durations: a bare number is refused, and the reason says why") {
  std::string why;
  CHECK_FALSE(parse_duration("100", &why).has_value());
  CHECK(why.find("no unit") != std::string::npos);
  CHECK(why.find("would be a guess") != std::string::npos);

  CHECK_FALSE(parse_duration("1sec", &why).has_value());
  CHECK(why.find("bad duration unit \"sec\" (expected ns, us, ms, s, m, h)") != std::string::npos);
  CHECK_FALSE(parse_duration("1MS", &why).has_value());
  CHECK(why.find("did you mean \"ms\"") != std::string::npos);
  CHECK_FALSE(parse_duration("1.5s", &why).has_value());
  CHECK(why.find("fractional") != std::string::npos);
  CHECK_FALSE(parse_duration("", &why).has_value());
  CHECK_FALSE(parse_duration("ms", &why).has_value());
  CHECK_FALSE(parse_duration("9999999999999h", &why).has_value());
  CHECK(why.find("too large") != std::string::npos);
}

TEST_CASE("config_format: sizes, durations and modes print exactly") {
  CHECK(format_size(0) == "0 B");
  CHECK(format_size(1000) == "1000 B");
  CHECK(format_size(4096) == "4 KiB");
  CHECK(format_size(64ULL << 20) == "64 MiB");
  CHECK(format_size((1ULL << 30) + 1024) == "1048577 KiB");
  CHECK(format_size(1ULL << 40) == "1 TiB");
  CHECK(format_duration(100ms) == "100ms");
  CHECK(format_duration(1s) == "1s");
  CHECK(format_duration(90s) == "90s");
  CHECK(format_duration(2min) == "2m");
  CHECK(format_duration(1500us) == "1500us");
  CHECK(format_duration(Duration(7)) == "7ns");
  CHECK(format_mode(0660) == "0660");
  CHECK(format_mode(0) == "0000");
  CHECK(format_mode(0755) == "0755");
  // Round trip through the parser.
  for (const char* text : {"64MiB", "4KiB", "1000B"}) {
    const auto bytes = parse_size(text);
    REQUIRE(bytes);
    CHECK(parse_size(format_size(*bytes)) == bytes);
  }
}

TEST_CASE("config_lag: a fraction of capacity or a number of bytes") {
  LagThreshold half;
  CHECK(half.unit == LagThreshold::Unit::fraction);
  CHECK(half.bytes_for(1 << 20) == 1 << 19);
  LagThreshold fixed{LagThreshold::Unit::bytes, 0.0, 4096};
  CHECK(fixed.bytes_for(1 << 20) == 4096);
  CHECK(fixed.bytes_for(1024) == 4096);  // bytes are absolute
  LagThreshold third{LagThreshold::Unit::fraction, 1.0 / 3.0, 0};
  CHECK(third.bytes_for(4096) == 1366);  // rounded up: never 0 for a positive fraction
}

TEST_CASE("metrics addresses: host:port, [v6]:port, a bare port on loopback; bad ones say why") {
  using stella::config::parse_metrics_address;
  const auto a = parse_metrics_address("127.0.0.1:9464");
  REQUIRE(a);
  CHECK(a->host == "127.0.0.1");
  CHECK(a->port == 9464);
  CHECK(a->loopback());
  CHECK(parse_metrics_address("9464")->to_string() == "127.0.0.1:9464");
  CHECK(parse_metrics_address(":9100")->to_string() == "127.0.0.1:9100");
  CHECK(parse_metrics_address("localhost:80")->to_string() == "127.0.0.1:80");
  const auto v6 = parse_metrics_address("[::1]:9464");
  REQUIRE(v6);
  CHECK(v6->host == "::1");
  CHECK(v6->to_string() == "[::1]:9464");
  CHECK(v6->loopback());
  CHECK_FALSE(parse_metrics_address("0.0.0.0:9464")->loopback());
  std::string why;
  CHECK_FALSE(parse_metrics_address("example.com:9464", &why));
  CHECK(why.find("not an IP address") != std::string::npos);
  CHECK_FALSE(parse_metrics_address("127.0.0.1:0", &why));
  CHECK(why.find("1 to 65535") != std::string::npos);
  CHECK_FALSE(parse_metrics_address("256.0.0.1:1", &why));
  CHECK_FALSE(parse_metrics_address("[::1]9464", &why));
  CHECK(why.find("[HOST]:PORT") != std::string::npos);
  CHECK_FALSE(parse_metrics_address("", &why));
}

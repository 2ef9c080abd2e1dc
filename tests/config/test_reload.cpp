// SIGHUP reload rules: which changes to a live segment are compatible.
#include <doctest/doctest.h>

#include "config_test_util.hpp"

using namespace stella::config;
using stella::config::test::load_ok;

namespace {
SegmentConfig ring(const std::string& name = "r") {
  SegmentConfig s;
  s.name = name;
  s.kind = SegmentKind::ring;
  s.capacity = 1 << 20;
  return s;
}
}  // namespace

TEST_CASE("config_reload: layout changes are incompatible, with a reason") {
  const SegmentConfig live = ring();
  CHECK_FALSE(incompatible_change(live, live));

  SegmentConfig p = live;
  p.capacity = 2 << 20;
  auto why = incompatible_change(live, p);
  REQUIRE(why);
  CHECK(why->find("capacity changes from 1 MiB to 2 MiB") != std::string::npos);
  CHECK(why->find("fixed at creation") != std::string::npos);

  p = live;
  p.kind = SegmentKind::blob;
  REQUIRE(incompatible_change(live, p));
  CHECK(incompatible_change(live, p)->find("kind changes from ring to blob") != std::string::npos);

  p = live;
  p.mode = RingMode::block;
  REQUIRE(incompatible_change(live, p));
  CHECK(incompatible_change(live, p)->find("mode changes from overwrite to block") != std::string::npos);

  p = live;
  p.max_readers = 8;
  REQUIRE(incompatible_change(live, p));
  CHECK(incompatible_change(live, p)->find("max_readers changes from 32 to 8") != std::string::npos);

  p = live;
  p.max_writers = 8;
  REQUIRE(incompatible_change(live, p));
  CHECK(incompatible_change(live, p)->find("max_writers") != std::string::npos);

  p = live;
  p.schema = "market.Quote@2";  // the type tag, like the layout, is fixed at creation
  REQUIRE(incompatible_change(live, p));
  CHECK(incompatible_change(live, p)->find("schema changes from none to \"market.Quote@2\"") != std::string::npos);
  CHECK_FALSE(same_settings(live, p));

  CHECK(incompatible_change(live, ring("other")));
}

TEST_CASE("config_reload: permission, ownership and policy changes are compatible") {
  const SegmentConfig live = ring();
  SegmentConfig p = live;
  p.permissions = 0640;
  p.group = Account{"root", 0};
  p.owner = Account{"root", 0};
  p.reader_group = Account{"root", 0};
  p.remove = RemovePolicy::immediately;
  p.lag_warning = LagThreshold{LagThreshold::Unit::bytes, 0.0, 4096};
  p.location = {40, 1};
  CHECK_FALSE(incompatible_change(live, p));
  CHECK_FALSE(same_settings(live, p));
  SegmentConfig moved = live;
  moved.location = {99, 1};  // only moved within the file
  CHECK(same_settings(live, moved));
}

TEST_CASE("config_reload: plan_reload sorts segments into added, removed, updated, refused, unchanged") {
  const Config live = load_ok(R"(version = 1
[[segment]]
name = "keep"
kind = "ring"
capacity = "1MiB"
[[segment]]
name = "gone"
kind = "blob"
capacity = 64
[[segment]]
name = "grow"
kind = "ring"
capacity = "1MiB"
[[segment]]
name = "chmod"
kind = "ring"
capacity = "1MiB"
)");
  const Config proposed = load_ok(R"(version = 1
[[segment]]
name = "new"
kind = "blob"
capacity = 64
[[segment]]
name = "chmod"
kind = "ring"
capacity = "1MiB"
permissions = "0600"
[[segment]]
name = "grow"
kind = "ring"
capacity = "2MiB"
[[segment]]
name = "keep"
kind = "ring"
capacity = "1MiB"
)");
  const ReloadPlan plan = plan_reload(live, proposed);
  CHECK(plan.added == std::vector<std::string>{"new"});
  CHECK(plan.removed == std::vector<std::string>{"gone"});
  CHECK(plan.updated == std::vector<std::string>{"chmod"});
  REQUIRE(plan.refused.size() == 1);
  CHECK(plan.refused[0].name == "grow");
  CHECK(plan.refused[0].reason.find("capacity") != std::string::npos);
  CHECK(plan.unchanged == std::vector<std::string>{"keep"});
}

//===- ReportTest.cpp - the partition report's data and page ---------------===//

#include "dinfer/Pipeline/Report.h"

#include "llvm/Support/JSON.h"

#include "gtest/gtest.h"

using namespace dinfer;

namespace {

PartitionReport sampleReport() {
  PartitionReport report;
  report.model = "net.onnx";
  report.trainStrategy = "train.json";
  report.devices = 4;
  report.stages = 2;
  report.trainDevices = 8;
  report.trainStages = 2;
  ReportParam w;
  w.predict.name = "w<1>";
  w.predict.fullShape = {8, 6};
  w.predict.sliceShape = {8, 3};
  w.predict.layout.devMatrix = {2};
  w.predict.layout.tensorMap = {DimAxes(), DimAxes{0}};
  w.predict.stages = {0};
  w.predict.rule = "dropped-replicas";
  w.dtype = "Float16";
  w.elementBits = 16;
  TensorLayout train;
  train.devMatrix = {2, 2};
  train.tensorMap = {DimAxes{1}, DimAxes{0}};
  w.train = train;
  report.params.push_back(w);
  for (int64_t rank = 0; rank < 4; ++rank) {
    ReportRank r;
    r.rank = rank;
    r.stage = rank / 2;
    r.weightBytes = 48;
    r.peakActivationBytes = 1000 + rank;
    ReportCollective c;
    c.kind = rank < 2 ? "send" : "recv";
    c.group = {rank, rank < 2 ? rank + 2 : rank - 2};
    c.bytes = 64;
    c.sentBytes = rank < 2 ? 64 : 0;
    c.peerStage = rank < 2 ? 1 : 0;
    r.sentBytes = c.sentBytes;
    r.collectives.push_back(c);
    report.ranks.push_back(r);
  }
  return report;
}

TEST(Report, JsonRoundTrip) {
  PartitionReport report = sampleReport();
  auto back = reportFromJson(reportJson(report), "report.json");
  ASSERT_TRUE(static_cast<bool>(back)) << llvm::toString(back.takeError());
  EXPECT_EQ(back->devices, 4);
  EXPECT_EQ(back->trainDevices, 8);
  ASSERT_EQ(back->params.size(), 1u);
  EXPECT_EQ(back->params[0].predict.name, "w<1>");
  EXPECT_EQ(back->params[0].predict.layout.tensorMap, report.params[0].predict.layout.tensorMap);
  ASSERT_TRUE(back->params[0].train.has_value());
  EXPECT_EQ(back->params[0].train->tensorMap, report.params[0].train->tensorMap);
  EXPECT_EQ(back->params[0].elementBits, 16u);
  ASSERT_EQ(back->ranks.size(), 4u);
  EXPECT_EQ(back->ranks[3].collectives[0].kind, "recv");
  EXPECT_EQ(back->ranks[3].collectives[0].peerStage, 0);
  EXPECT_EQ(back->ranks[2].peakActivationBytes, 1002u);
}

TEST(Report, BadFieldsAreNamed) {
  llvm::json::Value value = reportJson(sampleReport());
  (*value.getAsObject()->getArray("params"))[0].getAsObject()->erase("full_shape");
  auto bad = reportFromJson(value, "r.json");
  ASSERT_FALSE(static_cast<bool>(bad));
  EXPECT_EQ(llvm::toString(bad.takeError()), "r.json: parameter 'w<1>': 'full_shape' must be a list of integers");

  llvm::json::Value notReport = llvm::json::Object{{"format", "dinfer-export"}};
  auto wrong = reportFromJson(notReport, "m.json");
  ASSERT_FALSE(static_cast<bool>(wrong));
  EXPECT_NE(llvm::toString(wrong.takeError()).find("not a dinfer report"), std::string::npos);
}

TEST(Report, PageIsSelfContainedAndEscaped) {
  std::string page = renderReportHtml(sampleReport());
  EXPECT_NE(page.find("<!DOCTYPE html>"), std::string::npos);
  EXPECT_NE(page.find("w&lt;1&gt;"), std::string::npos);
  EXPECT_EQ(page.find("w<1>"), std::string::npos);
  EXPECT_EQ(page.find("<script src"), std::string::npos);
  EXPECT_EQ(page.find("<link"), std::string::npos);
  // Two pieces of [8, 3], each on two ranks: one of stage 0's.
  EXPECT_NE(page.find("offset [0, 3] shape [8, 3] · rank 1"), std::string::npos);
  // Cut from the training pieces [4, 3] that cover it: ranks 1 and 3 of training's [2, 2] matrix.
  EXPECT_NE(page.find("cut from training ranks 1, 3"), std::string::npos);
}

} // namespace

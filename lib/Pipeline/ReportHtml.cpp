//===- ReportHtml.cpp - a partition report as one self-contained page -----===//
//
// Inline CSS and SVG, one small inline script (filter, sort, click a slice);
// nothing is loaded from anywhere, so the page works offline, from file://
// and printed. Slices carry their offset and shape in SVG <title>s, which
// browsers show on hover without any script.
//
//===----------------------------------------------------------------------===//

#include "dinfer/Pipeline/Report.h"

#include "dinfer/Layout/Layout.h"
#include "dinfer/Layout/Text.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

using namespace llvm;
using namespace dinfer;

namespace {

std::string escape(StringRef text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
    case '&': out += "&amp;"; break;
    case '<': out += "&lt;"; break;
    case '>': out += "&gt;"; break;
    case '"': out += "&quot;"; break;
    default: out += c;
    }
  }
  return out;
}

std::string shapeText(ArrayRef<int64_t> shape) { return "[" + join(map_range(shape, [](int64_t v) { return std::to_string(v); }), ", ") + "]"; }

/// Ranks as "0-3" runs: "0-3, 8, 10-11".
std::string rankList(ArrayRef<int64_t> ranks) {
  std::string out;
  for (size_t i = 0; i < ranks.size();) {
    size_t j = i;
    while (j + 1 < ranks.size() && ranks[j + 1] == ranks[j] + 1)
      ++j;
    out += (out.empty() ? "" : ", ") + std::to_string(ranks[i]);
    if (j > i)
      out += (j == i + 1 ? ", " : "-") + std::to_string(ranks[j]);
    i = j + 1;
  }
  return out;
}

/// Distinct, light fills: hues a golden angle apart.
std::string rankColor(int64_t rank) {
  double hue = std::fmod(static_cast<double>(rank) * 137.508, 360.0);
  return formatv("hsl({0:F0},62%,{1}%)", hue, rank % 2 ? 68 : 78).str();
}

uint64_t sliceBytes(const ReportParam &p) {
  uint64_t count = 1;
  for (int64_t d : p.predict.sliceShape)
    count *= static_cast<uint64_t>(std::max<int64_t>(d, 0));
  return (count * p.elementBits + 7) / 8;
}

constexpr StringLiteral kStyle = R"css(
:root{--ink:#1d2430;--muted:#5b6575;--line:#d6dbe3;--hot:#fff1d6;--accent:#2f6fdb}
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--ink);margin:0;padding:24px 32px;max-width:1280px}
h1{font-size:24px;margin:0 0 4px}h2{font-size:18px;margin:32px 0 8px;border-bottom:1px solid var(--line);padding-bottom:4px}
.sub{color:var(--muted);margin:0 0 16px;word-break:break-all}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(200px,1fr));gap:12px}
.card{border:1px solid var(--line);border-radius:8px;padding:10px 12px}
.card b{display:block;font-size:20px}.card span{color:var(--muted);font-size:12px}
table{border-collapse:collapse;width:100%;font-size:13px}
th,td{border-bottom:1px solid var(--line);padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f4f6f9;position:sticky;top:0;cursor:pointer;user-select:none;white-space:nowrap}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
tr.hot td{background:var(--hot)}
tfoot td{font-weight:600}
code{font:12px ui-monospace,SFMono-Regular,Menlo,monospace}
.tag{display:inline-block;border-radius:4px;padding:0 5px;margin:1px;font-size:12px;background:#eef1f6}
input#filter{font:inherit;padding:5px 8px;width:320px;border:1px solid var(--line);border-radius:6px;margin:4px 0 8px}
figure{margin:10px 0;padding:8px 10px;border:1px solid var(--line);border-radius:8px;break-inside:avoid;display:inline-block;vertical-align:top;margin-right:10px}
figcaption{font-size:12px;color:var(--muted);margin-bottom:4px;max-width:560px;word-break:break-all}
figcaption b{color:var(--ink)}
svg text{font:10px ui-monospace,monospace;fill:#1d2430;pointer-events:none}
svg rect.c{stroke:#fff;stroke-width:1}svg rect.c:hover{stroke:#000}
svg.stages text.h{font:600 12px system-ui,sans-serif}
#info{position:fixed;right:16px;bottom:16px;background:#1d2430;color:#fff;padding:8px 12px;border-radius:6px;font:12px ui-monospace,monospace;max-width:520px;display:none}
.legend span{display:inline-block;width:12px;height:12px;border-radius:2px;vertical-align:-2px;margin:0 3px 0 8px}
@media print{body{padding:0;max-width:none}input#filter,#info{display:none}th{position:static}}
)css";

// Filter and sort the parameter table, show a clicked slice; marks the body
// ready so that a headless browser can tell the script ran to its end.
constexpr StringLiteral kScript = R"js(
(function(){
var table=document.getElementById('params'),filter=document.getElementById('filter'),info=document.getElementById('info');
filter.addEventListener('input',function(){var q=filter.value.toLowerCase();
Array.prototype.forEach.call(table.tBodies[0].rows,function(r){r.style.display=r.dataset.name.indexOf(q)<0?'none':'';});});
Array.prototype.forEach.call(table.tHead.rows[0].cells,function(th,col){th.addEventListener('click',function(){
var up=th.dataset.dir!=='up';th.dataset.dir=up?'up':'down';var rows=Array.prototype.slice.call(table.tBodies[0].rows);
rows.sort(function(a,b){var x=a.cells[col],y=b.cells[col];var u=x.dataset.v!==undefined?Number(x.dataset.v):x.textContent,
v=y.dataset.v!==undefined?Number(y.dataset.v):y.textContent;return (u<v?-1:u>v?1:0)*(up?1:-1);});
rows.forEach(function(r){table.tBodies[0].appendChild(r);});});});
document.addEventListener('click',function(e){var cell=e.target.closest?e.target.closest('rect.c'):null;
if(!cell){info.style.display='none';return;}info.textContent=cell.firstChild.textContent;info.style.display='block';});
document.body.dataset.ready='1';
})();
)js";

class Page {
public:
  explicit Page(const PartitionReport &report) : r_(report), os_(out_) {
    stageDevices_ = std::max<int64_t>(r_.devices / std::max<int64_t>(r_.stages, 1), 1);
    for (const ReportRank &rank : r_.ranks) {
      totalSent_ += rank.sentBytes;
      totalWeights_ += rank.weightBytes;
      if (!largest_ || rank.weightBytes + rank.peakActivationBytes >
                           largest_->weightBytes + largest_->peakActivationBytes)
        largest_ = &rank;
      if (!busiest_ || rank.sentBytes > busiest_->sentBytes)
        busiest_ = &rank;
    }
  }

  std::string render() {
    os_ << "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        << "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
        << "<title>dinfer partition report: " << escape(r_.model) << "</title><style>" << kStyle
        << "</style></head>\n<body>\n";
    summary();
    devices();
    ranks();
    transfers();
    params();
    os_ << "<div id=\"info\"></div>\n<script>" << kScript << "</script>\n</body></html>\n";
    os_.flush();
    return std::move(out_);
  }

private:
  void card(StringRef value, StringRef label) {
    os_ << "<div class=\"card\"><b>" << escape(value) << "</b><span>" << escape(label) << "</span></div>";
  }

  void summary() {
    os_ << "<h1>Partition report</h1><p class=\"sub\">" << escape(r_.model);
    if (!r_.trainStrategy.empty())
      os_ << " &middot; trained with " << escape(r_.trainStrategy);
    os_ << "</p>\n<div class=\"cards\">";
    card(formatv("{0} devices", r_.devices).str(),
         formatv("{0} pipeline stage(s) of {1}; training: {2} devices in {3} stage(s)", r_.stages, stageDevices_,
                 r_.trainDevices, r_.trainStages)
             .str());
    uint64_t paramBytes = 0;
    for (const ReportParam &p : r_.params) {
      uint64_t count = 1;
      for (int64_t d : p.predict.fullShape)
        count *= static_cast<uint64_t>(std::max<int64_t>(d, 0));
      paramBytes += (count * p.elementBits + 7) / 8;
    }
    card(formatv("{0} parameters", r_.params.size()).str(), formatBytes(paramBytes) + " in full");
    card(formatBytes(totalSent_), "sent per inference step, all ranks (ring estimate)");
    if (largest_)
      card("rank " + std::to_string(largest_->rank),
           "largest: " + formatBytes(largest_->weightBytes) + " of weights + " +
               formatBytes(largest_->peakActivationBytes) + " of activations at peak");
    if (busiest_)
      card("rank " + std::to_string(busiest_->rank), "busiest: sends " + formatBytes(busiest_->sentBytes) + " in " +
                                                         std::to_string(busiest_->collectives.size()) +
                                                         " collectives and transfers");
    os_ << "</div>\n";
  }

  /// The device matrix most parameters use; ranks are drawn in its shape.
  SmallVector<int64_t, 4> commonDeviceMatrix() const {
    std::map<SmallVector<int64_t, 4>, int> counts;
    for (const ReportParam &p : r_.params)
      ++counts[p.predict.layout.devMatrix];
    SmallVector<int64_t, 4> best = {stageDevices_};
    int most = 0;
    for (auto &[matrix, count] : counts)
      if (count > most) {
        most = count;
        best = matrix;
      }
    return best;
  }

  void devices() {
    SmallVector<int64_t, 4> matrix = commonDeviceMatrix();
    int64_t cols = matrix.empty() ? stageDevices_ : matrix.back();
    cols = std::max<int64_t>(std::min(cols, stageDevices_), 1);
    int64_t rows = (stageDevices_ + cols - 1) / cols;
    const int boxW = 132, boxH = 62, gap = 10, stageGap = 46, left = 90;
    int64_t stageH = rows * (boxH + gap);
    int64_t width = left + cols * (boxW + gap) + 10, height = r_.stages * stageH + (r_.stages - 1) * stageGap + 10;
    os_ << "<h2>Devices and stages</h2>\n<p>Each stage's " << stageDevices_
        << " ranks laid out as the device matrix <code>" << escape(shapeText(matrix))
        << "</code> (row-major, the last axis fastest), which most parameters use.</p>\n";
    os_ << formatv("<svg class=\"stages\" width=\"{0}\" height=\"{1}\" viewBox=\"0 0 {0} {1}\" role=\"img\" "
                   "aria-label=\"device matrix and pipeline stages\">",
                   width, height);
    for (int64_t stage = 0; stage < r_.stages; ++stage) {
      int64_t top = stage * (stageH + stageGap);
      os_ << formatv("<text class=\"h\" x=\"0\" y=\"{0}\">stage {1}</text>", top + 16, stage);
      for (int64_t local = 0; local < stageDevices_; ++local) {
        int64_t rank = stage * stageDevices_ + local;
        int64_t x = left + (local % cols) * (boxW + gap), y = top + (local / cols) * (boxH + gap);
        const ReportRank *info = rank < static_cast<int64_t>(r_.ranks.size()) ? &r_.ranks[rank] : nullptr;
        os_ << formatv("<g><rect class=\"c\" x=\"{0}\" y=\"{1}\" width=\"{2}\" height=\"{3}\" rx=\"6\" "
                       "style=\"fill:{4}\"><title>rank {5}</title></rect>",
                       x, y, boxW, boxH, rankColor(rank), rank);
        os_ << formatv("<text class=\"h\" x=\"{0}\" y=\"{1}\">rank {2}</text>", x + 8, y + 16, rank);
        if (info) {
          os_ << formatv("<text x=\"{0}\" y=\"{1}\">weights {2}</text>", x + 8, y + 31,
                         escape(formatBytes(info->weightBytes)));
          os_ << formatv("<text x=\"{0}\" y=\"{1}\">activ. {2}</text>", x + 8, y + 44,
                         escape(formatBytes(info->peakActivationBytes)));
          os_ << formatv("<text x=\"{0}\" y=\"{1}\">sends {2}</text>", x + 8, y + 57,
                         escape(formatBytes(info->sentBytes)));
        }
        os_ << "</g>";
      }
      if (stage + 1 < r_.stages) {
        uint64_t bytes = 0;
        for (const ReportRank &rank : r_.ranks)
          if (rank.stage == stage)
            for (const ReportCollective &c : rank.collectives)
              if (c.kind == "send" && c.peerStage == stage + 1)
                bytes += c.bytes;
        int64_t y = top + stageH - gap + 4;
        os_ << formatv("<line x1=\"{0}\" y1=\"{1}\" x2=\"{0}\" y2=\"{2}\" stroke=\"#2f6fdb\" stroke-width=\"2\" "
                       "marker-end=\"url(#arrow)\"/>",
                       left + 20, y, y + stageGap - 10);
        os_ << formatv("<text x=\"{0}\" y=\"{1}\">{2} sent to stage {3}</text>", left + 32, y + stageGap / 2 + 2,
                       escape(formatBytes(bytes)), stage + 1);
      }
    }
    os_ << "<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"8\" refY=\"5\" markerWidth=\"6\" "
           "markerHeight=\"6\" orient=\"auto\"><path d=\"M0,0L10,5L0,10z\" fill=\"#2f6fdb\"/></marker></defs>";
    os_ << "</svg>\n";
  }

  void ranks() {
    os_ << "<h2>Ranks</h2>\n<p>Weights are the slices each rank holds; activations are the most bytes alive at once "
           "when its program runs op after op (inputs and results until their last use); sent bytes count what a "
           "rank puts on the wire per inference step by the ring algorithms (all_reduce 2(n-1)/n of the tensor, "
           "all_gather and reduce_scatter (n-1)/n, a pipeline send all of it). The largest and the busiest rank "
           "are highlighted.</p>\n";
    std::set<std::string> kinds;
    for (const ReportRank &rank : r_.ranks)
      for (const ReportCollective &c : rank.collectives)
        kinds.insert(c.kind);
    os_ << "<table id=\"ranks\"><thead><tr><th class=\"n\">rank</th><th class=\"n\">stage</th>"
           "<th class=\"n\">weights</th><th class=\"n\">activations (peak)</th><th class=\"n\">sent</th>";
    for (const std::string &kind : kinds)
      os_ << "<th class=\"n\">" << escape(kind) << "</th>";
    os_ << "<th>collectives and transfers (kind, group, tensor bytes &times; count)</th></tr></thead><tbody>\n";
    uint64_t activations = 0;
    std::map<std::string, int64_t> kindTotals;
    for (const ReportRank &rank : r_.ranks) {
      bool hot = &rank == largest_ || &rank == busiest_;
      activations += rank.peakActivationBytes;
      os_ << "<tr" << (hot ? " class=\"hot\"" : "") << "><td class=\"n\">" << rank.rank << "</td><td class=\"n\">"
          << rank.stage << "</td><td class=\"n\">" << escape(formatBytes(rank.weightBytes))
          << "</td><td class=\"n\">" << escape(formatBytes(rank.peakActivationBytes)) << "</td><td class=\"n\">"
          << escape(formatBytes(rank.sentBytes)) << "</td>";
      std::map<std::string, int64_t> counts;
      std::map<std::tuple<std::string, std::string, uint64_t>, int64_t> grouped;
      for (const ReportCollective &c : rank.collectives) {
        ++counts[c.kind];
        ++kindTotals[c.kind];
        std::string group = c.kind == "send" || c.kind == "recv"
                                ? (c.kind == "send" ? "to rank " : "from rank ") + std::to_string(c.group.back()) +
                                      " (stage " + std::to_string(c.peerStage) + ")"
                                : "{" + rankList(c.group) + "}";
        ++grouped[{c.kind, group, c.bytes}];
      }
      for (const std::string &kind : kinds)
        os_ << "<td class=\"n\">" << counts[kind] << "</td>";
      os_ << "<td>";
      for (auto &[key, count] : grouped)
        os_ << "<span class=\"tag\">" << escape(std::get<0>(key)) << " " << escape(std::get<1>(key)) << " "
            << escape(formatBytes(std::get<2>(key))) << (count > 1 ? " &times; " + std::to_string(count) : "")
            << "</span>";
      os_ << "</td></tr>\n";
    }
    os_ << "</tbody><tfoot><tr><td>all</td><td></td><td class=\"n\">" << escape(formatBytes(totalWeights_))
        << "</td><td class=\"n\">" << escape(formatBytes(activations)) << "</td><td class=\"n\">"
        << escape(formatBytes(totalSent_)) << "</td>";
    for (const std::string &kind : kinds)
      os_ << "<td class=\"n\">" << kindTotals[kind] << "</td>";
    os_ << "<td></td></tr></tfoot></table>\n";
  }

  void transfers() {
    if (r_.stages <= 1)
      return;
    os_ << "<h2>Between stages</h2>\n<table><thead><tr><th>from</th><th>to</th><th class=\"n\">transfers</th>"
           "<th class=\"n\">bytes</th></tr></thead><tbody>\n";
    std::map<std::pair<int64_t, int64_t>, std::pair<int64_t, uint64_t>> pairs;
    for (const ReportRank &rank : r_.ranks)
      for (const ReportCollective &c : rank.collectives)
        if (c.kind == "send") {
          auto &entry = pairs[{rank.rank, c.group.back()}];
          ++entry.first;
          entry.second += c.bytes;
        }
    for (auto &[pair, entry] : pairs)
      os_ << formatv("<tr><td>rank {0} (stage {1})</td><td>rank {2} (stage {3})</td><td class=\"n\">{4}</td>"
                     "<td class=\"n\">{5}</td></tr>\n",
                     pair.first, pair.first / stageDevices_, pair.second, pair.second / stageDevices_, entry.first,
                     escape(formatBytes(entry.second)));
    os_ << "</tbody></table>\n";
  }

  void params() {
    os_ << "<h2>Parameters</h2>\n<p>Click a column to sort. A layout is MindSpore's: the device matrix of a stage "
           "and, per dimension, the axes that split it (-1: whole). Rule says what adapting training's layout to "
           "this device count did.</p>\n<input id=\"filter\" type=\"search\" placeholder=\"filter by name\" "
           "aria-label=\"filter parameters by name\">\n";
    os_ << "<table id=\"params\"><thead><tr><th>parameter</th><th>dtype</th><th>full shape</th>"
           "<th>dev_matrix</th><th>tensor_map</th><th>slice shape</th><th class=\"n\">bytes per rank</th>"
           "<th class=\"n\">pieces</th><th class=\"n\">copies</th><th>stage</th><th>rule</th>"
           "<th>training layout</th></tr></thead><tbody>\n";
    // Every parameter's pieces, for its table row and its grid.
    std::vector<Placed> placed;
    placed.reserve(r_.params.size());
    for (const ReportParam &p : r_.params) {
      if (p.predict.parts) {
        // One grid per part would be the honest drawing; the table says it.
        placed.push_back(Placed{std::nullopt, "laid out part by part (" + std::to_string(p.predict.parts->sizes.size()) +
                                                  " parts along dimension " + std::to_string(p.predict.parts->dim) +
                                                  ", each split on its own)"});
        continue;
      }
      auto sharded = ShardedTensor::create(p.predict.fullShape, p.predict.layout);
      placed.push_back(sharded ? Placed{std::move(*sharded), ""} : Placed{std::nullopt, toString(sharded.takeError())});
    }
    for (auto [index, p] : enumerate(r_.params)) {
      const TensorLayout &l = p.predict.layout;
      const std::optional<ShardedTensor> &sharded = placed[index].tensor;
      int64_t pieces = sharded ? sharded->numPieces() : 1;
      int64_t copies = sharded ? static_cast<int64_t>(sharded->ranksOfPiece(0).size()) : 1;
      uint64_t bytes = sliceBytes(p);
      std::string stages = join(map_range(p.predict.stages, [](int64_t s) { return std::to_string(s); }), "+");
      std::string lower = StringRef(p.predict.name).lower();
      os_ << "<tr data-name=\"" << escape(lower) << "\"><td><a href=\"#s" << index << "\"><code>"
          << escape(p.predict.name) << "</code></a></td><td>" << escape(p.dtype) << "</td><td>"
          << escape(shapeText(p.predict.fullShape)) << "</td><td>" << escape(shapeText(l.devMatrix)) << "</td><td>"
          << escape(tensorMapText(l.tensorMap))
          << (l.hasOptimizerSharding() ? " <span class=\"tag\">opt shard</span>" : "")
          << (p.predict.parts ? " <span class=\"tag\">by parts</span>" : "") << "</td><td>"
          << escape(shapeText(p.predict.sliceShape)) << "</td><td class=\"n\" data-v=\"" << bytes << "\">"
          << escape(formatBytes(bytes)) << "</td><td class=\"n\" data-v=\"" << pieces << "\">" << pieces
          << "</td><td class=\"n\" data-v=\"" << copies << "\">" << copies << "</td><td>" << stages << "</td><td>"
          << escape(p.predict.rule) << "</td><td>";
      if (p.train)
        os_ << escape(shapeText(p.train->devMatrix)) << " " << escape(tensorMapText(p.train->tensorMap))
            << (p.train->hasOptimizerSharding() ? " opt shard" : "");
      os_ << "</td></tr>\n";
    }
    os_ << "</tbody></table>\n";

    os_ << "<h2>Slices</h2>\n<p>Every parameter cut into the pieces ranks hold (rows: pieces of dimension 0, columns: "
           "the other dimensions' pieces, row-major), each coloured by the lowest rank holding it and labelled with "
           "every rank that does (its replicas). Hover or click a piece for its offset, shape, ranks and the training "
           "ranks it is cut from.</p>\n<div class=\"legend\">";
    for (int64_t rank = 0; rank < std::min<int64_t>(r_.devices, 256); ++rank)
      os_ << "<span style=\"background:" << rankColor(rank) << "\"></span>" << rank;
    os_ << "</div>\n";
    for (auto [index, p] : enumerate(r_.params))
      sliceGrid(index, p, placed[index]);
  }

  /// A parameter's pieces, or why its layout has none.
  struct Placed {
    std::optional<ShardedTensor> tensor;
    std::string error;
  };

  void sliceGrid(size_t index, const ReportParam &p, const Placed &placed) {
    os_ << "<figure id=\"s" << index << "\"><figcaption><b>" << escape(p.predict.name) << "</b> "
        << escape(shapeText(p.predict.fullShape)) << " &rarr; " << escape(shapeText(p.predict.sliceShape));
    if (!placed.tensor) {
      os_ << ": " << escape(placed.error) << "</figcaption></figure>\n";
      return;
    }
    const ShardedTensor *sharded = &*placed.tensor;
    std::optional<ShardedTensor> train;
    if (p.train) {
      auto created = ShardedTensor::create(p.predict.fullShape, *p.train);
      if (created)
        train = std::move(*created);
      else
        consumeError(created.takeError());
    }
    ArrayRef<int64_t> counts = sharded->pieceCounts();
    int64_t rows = counts.empty() ? 1 : counts.front(), cols = 1;
    for (size_t d = 1; d < counts.size(); ++d)
      cols *= counts[d];
    if (counts.size() == 1) {
      cols = rows;
      rows = 1;
    }
    int64_t stageBase = p.predict.stages.empty() ? 0 : p.predict.stages.front() * stageDevices_;
    if (p.predict.stages.size() > 1)
      os_ << " (shared by stages " << escape(join(map_range(p.predict.stages, [](int64_t s) {
                                             return std::to_string(s);
                                           }),
                                           ", "))
          << "; stage " << p.predict.stages.front() << "'s ranks drawn)";
    if (p.predict.layout.hasOptimizerSharding())
      os_ << "; optimizer-sharded: dimension 0 cut further among the ranks that held the same slice";
    os_ << "</figcaption>";
    constexpr int64_t kMaxCells = 4096;
    if (rows * cols > kMaxCells) {
      os_ << "<p>" << rows * cols << " pieces: too many to draw.</p></figure>\n";
      return;
    }
    int64_t cellW = std::clamp<int64_t>(560 / std::max<int64_t>(cols, 1), 8, 64);
    int64_t cellH = std::clamp<int64_t>(240 / std::max<int64_t>(rows, 1), 8, 32);
    os_ << formatv("<svg class=\"grid\" width=\"{0}\" height=\"{1}\" viewBox=\"0 0 {0} {1}\">", cols * cellW,
                   rows * cellH);
    for (int64_t piece = 0; piece < sharded->numPieces(); ++piece) {
      int64_t row = counts.size() == 1 ? 0 : piece / cols, col = counts.size() == 1 ? piece : piece % cols;
      ArrayRef<int64_t> holders = sharded->ranksOfPiece(piece);
      SmallVector<int64_t, 8> global;
      for (int64_t rank : holders)
        global.push_back(stageBase + rank);
      Slice slice = sharded->pieceSlice(piece);
      std::string title = "offset " + shapeText(slice.offset) + " shape " + shapeText(slice.shape) + " · rank" +
                          (global.size() > 1 ? "s " : " ") + rankList(global);
      if (train) {
        auto covers = train->coverRegion(slice);
        if (covers) {
          SmallVector<int64_t, 8> sources;
          for (const ShardedTensor::Cover &cover : *covers)
            sources.push_back(cover.ranks.front());
          title += " · cut from training rank" + std::string(sources.size() > 1 ? "s " : " ") + rankList(sources);
        } else {
          consumeError(covers.takeError());
        }
      }
      int64_t first = global.empty() ? 0 : global.front();
      os_ << formatv("<rect class=\"c\" x=\"{0}\" y=\"{1}\" width=\"{2}\" height=\"{3}\" style=\"fill:{4}\">"
                     "<title>{5}</title></rect>",
                     col * cellW, row * cellH, cellW, cellH, rankColor(first), escape(title));
      std::string label = rankList(global);
      if (cellH >= 12 && static_cast<int64_t>(label.size()) * 6 + 4 <= cellW)
        os_ << formatv("<text x=\"{0}\" y=\"{1}\">{2}</text>", col * cellW + 3, row * cellH + cellH / 2 + 4,
                       escape(label));
    }
    os_ << "</svg></figure>\n";
  }

  const PartitionReport &r_;
  std::string out_;
  raw_string_ostream os_;
  int64_t stageDevices_ = 1;
  uint64_t totalSent_ = 0, totalWeights_ = 0;
  const ReportRank *largest_ = nullptr, *busiest_ = nullptr;
};

} // namespace

std::string dinfer::renderReportHtml(const PartitionReport &report) { return Page(report).render(); }

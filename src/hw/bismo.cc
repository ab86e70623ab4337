#include "hw/bismo.h"

#include <algorithm>
#include <limits>

namespace haq::hw {

namespace {

int64_t CeilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

std::vector<int64_t> TileRows(int64_t rows, int64_t tile) {
  std::vector<int64_t> out(static_cast<size_t>(rows / tile), tile);
  if (rows % tile) out.push_back(rows % tile);
  return out;
}

int64_t Sum(const std::vector<int64_t>& v) {
  int64_t s = 0;
  for (int64_t x : v) s += x;
  return s;
}

struct DataflowResult {
  int64_t cycles = 0;
  int64_t x_words = 0;
  int64_t y_words = 0;
  int64_t buffer_read_bits = 0;
};

// X streams (bx bits), Y is resident (by bits).
DataflowResult RunDataflow(const std::vector<int64_t>& x_tiles, const std::vector<int64_t>& y_tiles,
                           int64_t kw, int64_t bx, int64_t by, int64_t capacity, int64_t dk_bits) {
  const auto x_chunks = BismoChunks(x_tiles, kw, bx, capacity);
  const auto y_chunks = BismoChunks(y_tiles, kw, by, capacity);
  DataflowResult r;
  for (const auto& yc : y_chunks) {
    const int64_t y_rows = Sum(yc);
    for (const auto& xc : x_chunks) {
      const int64_t x_rows = Sum(xc);
      r.cycles += BismoBlockCycles(xc, yc, kw, bx, by);
      // Each block fetches both of its operands again.
      r.x_words += x_rows * kw * bx;
      r.y_words += y_rows * kw * by;
      // Every operation reads one word per row of both tiles.
      const int64_t nx = static_cast<int64_t>(xc.size());
      const int64_t ny = static_cast<int64_t>(yc.size());
      r.buffer_read_bits += dk_bits * kw * bx * by * (ny * x_rows + nx * y_rows);
    }
  }
  return r;
}

}  // namespace

std::vector<std::vector<int64_t>> BismoChunks(const std::vector<int64_t>& rows, int64_t kw,
                                              int64_t bits, int64_t capacity_words) {
  std::vector<std::vector<int64_t>> chunks;
  int64_t used = 0;
  for (int64_t r : rows) {
    const int64_t words = r * kw * bits;
    if (chunks.empty() || used + words > capacity_words) {
      chunks.emplace_back();
      used = 0;
    }
    chunks.back().push_back(r);
    used += words;
  }
  return chunks;
}

int64_t BismoBlockCycles(const std::vector<int64_t>& x_rows, const std::vector<int64_t>& y_rows,
                         int64_t kw, int64_t bx, int64_t by) {
  const int64_t nx = static_cast<int64_t>(x_rows.size());
  const int64_t ny = static_cast<int64_t>(y_rows.size());
  const int64_t n = nx * ny * kw * bx * by;
  int64_t worst = 1;
  int64_t prefix = 0;
  for (int64_t x = 0; x < nx; ++x) {
    const int64_t r = x_rows[static_cast<size_t>(x)];
    const int64_t v = kw * bx * prefix - x * ny * kw * bx * by + r + (bx - 1) * (r - 1) +
                      (kw - 1) * bx * std::max<int64_t>(0, r - by);
    worst = std::max(worst, v);
    prefix += r;
  }
  prefix = 0;
  for (int64_t y = 0; y < ny; ++y) {
    const int64_t s = y_rows[static_cast<size_t>(y)];
    const int64_t v =
        kw * by * prefix - y * kw * bx * by + s + (kw * by - 1) * std::max<int64_t>(0, s - bx);
    worst = std::max(worst, v);
    prefix += s;
  }
  return n - 1 + worst;
}

int64_t BismoBlockCyclesSimulated(const std::vector<int64_t>& x_rows,
                                  const std::vector<int64_t>& y_rows, int64_t kw, int64_t bx,
                                  int64_t by) {
  // Arrival cycle of each piece (tile, K slice, bit plane) on its stream: fetch
  // order is tile, then K slice, then bit plane, then row.
  auto arrivals = [kw](const std::vector<int64_t>& rows, int64_t bits) {
    std::vector<int64_t> at;
    int64_t fetched = 0;
    for (int64_t r : rows) {
      for (int64_t k = 0; k < kw; ++k) {
        for (int64_t b = 0; b < bits; ++b) {
          fetched += r;
          at.push_back(fetched - 1);
        }
      }
    }
    return at;
  };
  const auto ax = arrivals(x_rows, bx);
  const auto ay = arrivals(y_rows, by);
  int64_t finish = 0;
  const auto nx = static_cast<int64_t>(x_rows.size());
  const auto ny = static_cast<int64_t>(y_rows.size());
  // Execution order: X tile, Y tile, K slice, Y bit, X bit.
  for (int64_t x = 0; x < nx; ++x) {
    for (int64_t y = 0; y < ny; ++y) {
      for (int64_t k = 0; k < kw; ++k) {
        for (int64_t yb = 0; yb < by; ++yb) {
          for (int64_t xb = 0; xb < bx; ++xb) {
            const int64_t need_x = ax[static_cast<size_t>((x * kw + k) * bx + xb)];
            const int64_t need_y = ay[static_cast<size_t>((y * kw + k) * by + yb)];
            finish = std::max({finish, need_x, need_y}) + 1;
          }
        }
      }
    }
  }
  return finish;
}

BismoProductCost BismoEvaluateProduct(const BismoConfig& cfg, const BismoProduct& p, int w_bits,
                                      int a_bits) {
  const int64_t kw = CeilDiv(p.k, cfg.dk_bits);
  const auto a_tiles = TileRows(p.m, cfg.dm);
  const auto w_tiles = TileRows(p.n, cfg.dn);
  const DataflowResult a_streaming =
      RunDataflow(a_tiles, w_tiles, kw, a_bits, w_bits, cfg.buffer_words, cfg.dk_bits);
  const DataflowResult w_streaming =
      RunDataflow(w_tiles, a_tiles, kw, w_bits, a_bits, cfg.buffer_words, cfg.dk_bits);
  BismoProductCost c;
  c.ops = static_cast<int64_t>(a_tiles.size()) * static_cast<int64_t>(w_tiles.size()) * kw *
          w_bits * a_bits;
  c.a_streams = a_streaming.cycles <= w_streaming.cycles;
  const DataflowResult& best = c.a_streams ? a_streaming : w_streaming;
  c.cycles = best.cycles;
  c.a_words_fetched = c.a_streams ? best.x_words : best.y_words;
  c.w_words_fetched = c.a_streams ? best.y_words : best.x_words;
  c.buffer_read_bits = best.buffer_read_bits;
  return c;
}

Cost EvaluateBismo(const BismoConfig& cfg, double clock_hz, const LayerShape& layer, int w_bits,
                   int a_bits) {
  // Which product, and how many times it runs back to back.
  BismoProduct product;
  int64_t repeats = 1;
  // A remainder product (a last, partial group of depthwise channels).
  BismoProduct tail;
  int64_t tail_repeats = 0;
  const int64_t spatial = layer.out_h * layer.out_w;
  const int64_t kernel = layer.kernel_h * layer.kernel_w;
  switch (layer.kind) {
    case LayerKind::kFc:
      // The whole batch at once; weights fetched once.
      product = {layer.batch, layer.out_channels, layer.in_channels};
      break;
    case LayerKind::kConv: {
      // One image at a time (weights fetched again for every image); a grouped
      // conv runs its groups one after another.
      const int64_t g = layer.groups;
      product = {spatial, layer.out_channels / g, layer.in_channels / g * kernel};
      repeats = layer.batch * g;
      break;
    }
    case LayerKind::kDepthwise: {
      const int64_t c = layer.out_channels;
      if (cfg.depthwise == DepthwiseMapping::kPerChannel) {
        product = {spatial, 1, kernel};
        repeats = layer.batch * c;
      } else {
        // Independent dense groups of dn channels; a partial last group is its own
        // smaller product.
        product = {spatial, cfg.dn, cfg.dn * kernel};
        repeats = layer.batch * (c / cfg.dn);
        if (c % cfg.dn) {
          tail = {spatial, c % cfg.dn, (c % cfg.dn) * kernel};
          tail_repeats = layer.batch;
        }
      }
      break;
    }
  }

  BismoProductCost total;
  auto accumulate = [&](const BismoProduct& p, int64_t times) {
    if (times == 0) return;
    const BismoProductCost c = BismoEvaluateProduct(cfg, p, w_bits, a_bits);
    total.cycles += c.cycles * times;
    total.ops += c.ops * times;
    total.a_words_fetched += c.a_words_fetched * times;
    total.w_words_fetched += c.w_words_fetched * times;
    total.buffer_read_bits += c.buffer_read_bits * times;
  };
  accumulate(product, repeats);
  accumulate(tail, tail_repeats);

  Cost cost;
  cost.cycles = total.cycles;
  cost.seconds = static_cast<double>(total.cycles) / clock_hz;
  cost.compute_cycles = total.ops;
  cost.dram_read_bits = (total.a_words_fetched + total.w_words_fetched) * cfg.dk_bits;
  cost.dram_write_bits = 0;  // result write-back is not modelled (free)
  BufferCost buffers{"operand", total.buffer_read_bits, cost.dram_read_bits, 0.0, 0.0};
  cost.buffers.push_back(buffers);
  // Two streams run in parallel: the busier one is the memory time.
  const int64_t fetch_cycles = std::max(total.a_words_fetched, total.w_words_fetched);
  cost.bound = fetch_cycles > total.ops ? Bound::kMemory : Bound::kCompute;
  cost.has_energy = false;
  return cost;
}

}  // namespace haq::hw

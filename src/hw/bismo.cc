#include "hw/bismo.h"

#include <algorithm>
#include <limits>

namespace haq::hw {

namespace {

int64_t CeilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

// Greatest of v(i) for i in 0..n-1, where v is linear on 0..n-2 (slope `slope`,
// v(0) = `first`) and v(n-1) = `at_last`.
int64_t MaxOverRun(int64_t n, int64_t first, int64_t slope, int64_t at_last) {
  int64_t best = at_last;
  if (n >= 2) best = std::max({best, first, first + slope * (n - 2)});
  return best;
}

struct DataflowResult {
  int64_t cycles = 0;
  int64_t x_words = 0;
  int64_t y_words = 0;
  int64_t buffer_read_bits = 0;
};

// X streams (bx bits), Y is resident (by bits). Every (resident chunk, streaming
// chunk) pair is one block; identical pairs are counted once and weighted.
DataflowResult RunDataflow(const std::vector<BismoChunkRun>& x_runs,
                           const std::vector<BismoChunkRun>& y_runs, int64_t kw, int64_t bx,
                           int64_t by, int64_t dk_bits) {
  DataflowResult r;
  for (const auto& yr : y_runs) {
    const int64_t y_rows = yr.chunk.total_rows();
    for (const auto& xr : x_runs) {
      const int64_t pairs = xr.count * yr.count;
      const int64_t x_rows = xr.chunk.total_rows();
      r.cycles += pairs * BismoBlockCycles(xr.chunk, yr.chunk, kw, bx, by);
      // Each block fetches both of its operands again.
      r.x_words += pairs * x_rows * kw * bx;
      r.y_words += pairs * y_rows * kw * by;
      // Every operation reads one word per row of both tiles.
      r.buffer_read_bits += pairs * dk_bits * kw * bx * by *
                            (yr.chunk.tiles * x_rows + xr.chunk.tiles * y_rows);
    }
  }
  return r;
}

}  // namespace

std::vector<int64_t> BismoChunk::Heights() const {
  std::vector<int64_t> h(static_cast<size_t>(tiles - 1), rows);
  h.push_back(last);
  return h;
}

std::vector<BismoChunkRun> BismoChunkRuns(int64_t total_rows, int64_t tile, int64_t kw,
                                          int64_t bits, int64_t capacity_words) {
  const int64_t full_tiles = total_rows / tile;
  const int64_t rest = total_rows % tile;
  const int64_t tile_words = tile * kw * bits;
  // Whole tiles per chunk: as many as fit, and at least one.
  const int64_t per_chunk = std::max<int64_t>(1, capacity_words / tile_words);
  const int64_t full_chunks = full_tiles / per_chunk;
  const int64_t leftover = full_tiles % per_chunk;
  std::vector<BismoChunkRun> runs;
  auto add = [&](int64_t tiles, int64_t last, int64_t count) {
    if (count > 0 && tiles > 0) runs.push_back({{tiles, tile, last}, count});
  };
  if (rest == 0) {
    add(per_chunk, tile, full_chunks);
    add(leftover, tile, 1);
    return runs;
  }
  const int64_t rest_words = rest * kw * bits;
  // The partial tile joins the last chunk if it fits beside that chunk's tiles.
  if (leftover > 0) {
    add(per_chunk, tile, full_chunks);
    if (leftover * tile_words + rest_words <= capacity_words) {
      add(leftover + 1, rest, 1);
    } else {
      add(leftover, tile, 1);
      add(1, rest, 1);
    }
  } else if (full_chunks > 0 && per_chunk * tile_words + rest_words <= capacity_words) {
    add(per_chunk, tile, full_chunks - 1);
    add(per_chunk + 1, rest, 1);
  } else {
    add(per_chunk, tile, full_chunks);
    add(1, rest, 1);
  }
  return runs;
}

int64_t BismoBlockCycles(const BismoChunk& x, const BismoChunk& y, int64_t kw, int64_t bx,
                         int64_t by) {
  const int64_t nx = x.tiles;
  const int64_t ny = y.tiles;
  const int64_t n = nx * ny * kw * bx * by;
  // The latest start any tile's data forces, over the streaming tiles (x) and the
  // resident ones (y); tile i has i full tiles before it.
  auto x_term = [&](int64_t i, int64_t r) {
    return kw * bx * (i * x.rows) - i * ny * kw * bx * by + r + (bx - 1) * (r - 1) +
           (kw - 1) * bx * std::max<int64_t>(0, r - by);
  };
  auto y_term = [&](int64_t i, int64_t s) {
    return kw * by * (i * y.rows) - i * kw * bx * by + s +
           (kw * by - 1) * std::max<int64_t>(0, s - bx);
  };
  const int64_t worst_x = MaxOverRun(nx, x_term(0, x.rows), x_term(1, x.rows) - x_term(0, x.rows),
                                     x_term(nx - 1, x.last));
  const int64_t worst_y = MaxOverRun(ny, y_term(0, y.rows), y_term(1, y.rows) - y_term(0, y.rows),
                                     y_term(ny - 1, y.last));
  return n - 1 + std::max({int64_t{1}, worst_x, worst_y});
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
  // An operand is chunked the same way whether it streams or stays resident.
  const auto a_runs = BismoChunkRuns(p.m, cfg.dm, kw, a_bits, cfg.buffer_words);
  const auto w_runs = BismoChunkRuns(p.n, cfg.dn, kw, w_bits, cfg.buffer_words);
  const DataflowResult a_streaming = RunDataflow(a_runs, w_runs, kw, a_bits, w_bits, cfg.dk_bits);
  const DataflowResult w_streaming = RunDataflow(w_runs, a_runs, kw, w_bits, a_bits, cfg.dk_bits);
  BismoProductCost c;
  c.ops = CeilDiv(p.m, cfg.dm) * CeilDiv(p.n, cfg.dn) * kw * w_bits * a_bits;
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

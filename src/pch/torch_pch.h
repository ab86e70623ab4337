// Precompiled header for the LibTorch-using parts of the library (graph/, data/,
// quant/, train/, search/) and their tests. hw/ and util/ never see it.
#pragma once
#include <torch/torch.h>

#include <fmt/format.h>

#include <map>
#include <string>
#include <vector>

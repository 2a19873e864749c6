#pragma once

#include <string>

namespace botmodels {

// botmodels-pipeline-bench --size base|small: what the few-row kernel gains
// (few_rows_bench.h), then Whisper (and, at base, BLIP) at a real model's
// size on stand-ins of that size (random weights: the cost does not depend
// on their values), written into `dir` when missing. Per stage, at 1 and 2
// intra-op threads, in fp32 and int8 (Whisper): the encoder, one decoder
// step with and without the KV cache (and with its products left to
// libtorch), a 224-token window (token count fixed: no stop token) with and
// without it, the real-time factor of 30 s of audio with 100 tokens, int8's
// speed-up and how close its states and logits stay to fp32's; then (base)
// one 30 s request served by a real broker and worker against the same in
// process. Prints one JSON object per line; a ratio only between figures
// measured in this run. Throws on a load or run failure.
void RunRealSizeBench(const std::string& dir, const std::string& fixtures, const std::string& size,
                      double seconds);

}  // namespace botmodels

#pragma once

namespace botmodels {

// What few_row_products.h gains, in process: Whisper-base's Linear shapes
// ([out, in] of 512 x 512, 2048 x 512, 512 x 2048 and the 51 865 logits)
// and its cross-attention (8 heads over 1 500 keys of 64), and the demo
// mlp's addmm (512 x 512, the weight [in, out]), at 1, 5, 8 and
// 16 rows and 1 and 2 intra-op threads: libtorch's time, the kernel's, and
// their ratio. Random weights, about `seconds` per figure. Prints one JSON
// object per line.
void RunFewRowsBench(double seconds);

}  // namespace botmodels

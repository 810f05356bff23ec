"""Hardware-level benchmarks on the simulator: splits, cues, throughput, hot-plug."""

"""Benchmark runners: each serves a model with a real inference server as a child process and
measures it with the OpenAI-compatible serving benchmark (`openai_bench`).

- `workload`, `openai_bench`, `percentiles`: the fixed load and what is measured, whoever serves.
- `hardware`, `profiles`: what this host has (NVML) and the hardware profile it maps to, with the
  thresholds that certify a model for that profile.
- `model_cache`, `server`, `pidfiles`: a model's local copy, and the child server's whole life.
- `serving`: the steps every runner shares; `llama_cpp` (CPU) and `vllm` (NVIDIA GPUs) say
  only how their server is started.
"""

"""Names of the windows a benchmark run records (shared by the runner, the inference
measurement and the readers, none of which should import the others for a constant)."""

TRAIN_WARMUP_WINDOW = "train_warmup"
EPOCH_WINDOW = "epoch"
EVAL_WINDOW = "eval"
INFERENCE_WINDOW = "inference"
BATCH_WINDOW = "inference_batch"
WARMUP_WINDOW = "inference_warmup"

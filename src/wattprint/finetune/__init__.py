"""Fine-tuning launcher: a Hugging Face model, a dataset and a task, preprocessed
automatically, trained with ``transformers.Trainer`` under the tracker (PEFT optional)."""

"""Framework integrations: training callbacks and exporters.

Import the module for your framework; nothing is imported here, so
``import wattprint.integrations`` stays free:

* ``wattprint.integrations.lightning.WattprintCallback`` (PyTorch Lightning)
* ``wattprint.integrations.huggingface.WattprintCallback`` (Hugging Face ``Trainer``)
* ``wattprint.integrations.keras.WattprintCallback`` (Keras 3)
* ``wattprint.integrations.torch_loop.EpochTracker`` / ``tracked_epochs`` (a plain loop)

Every callback records the same windows (``train`` ⊃ ``epoch`` ⊃ ``eval`` / ``step``)
and logs the framework's metrics at the global step; see ``docs/integrations.md``.
"""

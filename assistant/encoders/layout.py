"""Where a model folder keeps its encoder graphs: the converter writes them, the ONNX runner reads them."""

ONNX_FILE = "onnx/model.onnx"  # fp32: questions, and passages when int8 is off
INT8_FILE = "onnx/model_qint8.onnx"  # passages, where the folder has it (`passage_precision`)

"""Computer vision: boxes, YOLO, localization, face recognition, conv-net views.

* boxes, IoU, non-max suppression, YOLO targets and decoding (plain NumPy);
* losses: :class:`LocalizationLoss` (the course's masked [pc, box, class] loss)
  and :class:`YoloLoss`, with anchors from :func:`kmeans_anchors`;
* detection metrics: VOC and COCO mean average precision;
* the convolutional implementation of sliding windows
  (:func:`to_fully_convolutional`);
* face recognition: :class:`EmbeddingIndex`, :func:`similarity_head`, ROC;
* what conv nets learn: :func:`top_activating_patches`, :func:`saliency_map`.
"""

from numnet.vision.boxes import (
    box_area,
    center_to_corners,
    corners_to_center,
    iou,
    non_max_suppression,
)
from numnet.vision.detection_metrics import (
    coco_mean_average_precision,
    mean_average_precision,
    voc_average_precision,
)
from numnet.vision.face import (
    EmbeddingIndex,
    roc_auc,
    roc_curve,
    similarity_head,
)
from numnet.vision.fcn import sliding_window_scores, to_fully_convolutional
from numnet.vision.losses import LocalizationLoss
from numnet.vision.visualize import (
    receptive_field,
    saliency_map,
    top_activating_patches,
)
from numnet.vision.yolo import (
    decode_yolo_output,
    encode_yolo_targets,
    shape_iou,
    yolo_head,
)
from numnet.vision.yolo_loss import YoloLoss, kmeans_anchors, mean_anchor_iou

__all__ = [
    "receptive_field",
    "saliency_map",
    "top_activating_patches",
    "EmbeddingIndex",
    "roc_auc",
    "roc_curve",
    "similarity_head",
    "YoloLoss",
    "kmeans_anchors",
    "mean_anchor_iou",
    "LocalizationLoss",
    "box_area",
    "center_to_corners",
    "corners_to_center",
    "decode_yolo_output",
    "encode_yolo_targets",
    "coco_mean_average_precision",
    "iou",
    "mean_average_precision",
    "voc_average_precision",
    "non_max_suppression",
    "shape_iou",
    "sliding_window_scores",
    "to_fully_convolutional",
    "yolo_head",
]

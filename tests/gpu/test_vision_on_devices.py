"""The course's vision models and tools on a device, against the CPU.

The application builders (LeNet-5, the small ResNet, Inception, MobileNet, VGG
and YOLO networks) train one epoch on the device from the same weights as on
the CPU and predict the same; the host-side tools (box IoU, non-max
suppression, YOLO decoding, saliency maps, the face-recognition index) accept
a GPU model's outputs and answer as on the CPU. The ``device`` fixture
(``tests/conftest.py``) gives "strict" everywhere and "cuda" where CuPy finds a GPU.
"""

from __future__ import annotations

import numpy as np
import pytest
from tests.gpu.test_every_layer_on_devices import F32

import numnet
from numnet import applications, vision

ANCHORS = np.array([[0.2, 0.3], [0.6, 0.5]])

APPLICATIONS = {
    "lenet5": lambda: applications.lenet5(),
    "small_resnet": lambda: applications.small_resnet(stage_filters=(4, 8, 8)),
    "small_inception": lambda: applications.small_inception(),
    "small_mobilenet": lambda: applications.small_mobilenet(
        block_filters=((4, 1), (8, 2))
    ),
    "vgg_small": lambda: applications.vgg_small(
        block_filters=(4, 8, 8), dense_units=16
    ),
}


def _train(factory, device, x, y):
    numnet.manual_seed(0)
    model = factory()
    model.compile("adam", "sparse_categorical_crossentropy", device=device)
    with numnet.config.using(random_on_device=False):  # the CPU's dropout masks
        history = model.fit(x, y, batch_size=4, epochs=1, verbose=0, shuffle=False)
    return history.history["loss"], model.predict(x, verbose=0)


@pytest.mark.parametrize("name", sorted(APPLICATIONS))
def test_application_trains_on_the_device_as_on_the_cpu(name, device):
    rng = np.random.default_rng(0)
    x = rng.random((8, 28, 28, 1), dtype=np.float32)
    y = rng.integers(0, 10, 8)
    loss_cpu, out_cpu = _train(APPLICATIONS[name], "cpu", x, y)
    loss_dev, out_dev = _train(APPLICATIONS[name], device, x, y)
    np.testing.assert_allclose(loss_dev, loss_cpu, rtol=1e-3)
    np.testing.assert_allclose(out_dev, out_cpu, rtol=2e-3, atol=2e-4)


def test_yolo_trains_and_decodes_on_the_device(device):
    rng = np.random.default_rng(0)
    x = rng.random((4, 32, 32, 1), dtype=np.float32)
    corners = rng.random((4, 1, 2)) * 0.5
    boxes = [np.concatenate([c, c + 0.4], axis=-1) for c in corners]
    labels = [rng.integers(0, 2, 1) for _ in range(4)]
    results = []
    for where in ("cpu", device):
        numnet.manual_seed(0)
        model = applications.yolo_small((32, 32, 1), 2, 2, (4, 4, 4, 4), 8)
        grid = model.output_shape[1]
        targets = vision.encode_yolo_targets(boxes, labels, grid, ANCHORS, 2)
        model.compile("adam", vision.YoloLoss(ANCHORS, 2), device=where)
        model.fit(x, targets, batch_size=2, epochs=1, verbose=0, shuffle=False)
        raw = model(x)  # the device's own array, handed to the host tools
        decoded = vision.decode_yolo_output(raw, ANCHORS, 0.0, from_logits=True)
        head = vision.yolo_head(raw.data.reshape(raw.shape[:3] + (2, 7)), ANCHORS)
        results.append((decoded, head))
    (cpu, cpu_head), (dev, dev_head) = results
    assert isinstance(dev_head, np.ndarray)
    np.testing.assert_allclose(dev_head, cpu_head, **F32)
    for (b1, s1, c1), (b2, s2, c2) in zip(cpu, dev, strict=True):
        np.testing.assert_allclose(b2, b1, **F32)
        np.testing.assert_allclose(s2, s1, **F32)
        np.testing.assert_array_equal(c2, c1)


def test_box_tools_take_device_arrays(device):
    rng = np.random.default_rng(1)
    corners = rng.random((6, 2)) * 10
    boxes = np.concatenate([corners, corners + rng.random((6, 2)) * 5 + 1], axis=1)
    scores = rng.random(6)
    put = numnet.device(device).put
    np.testing.assert_array_equal(
        vision.non_max_suppression(put(boxes), put(scores), 0.3),
        vision.non_max_suppression(boxes, scores, 0.3),
    )
    np.testing.assert_allclose(
        vision.iou(put(boxes), put(boxes[::-1])), vision.iou(boxes, boxes[::-1])
    )


def test_saliency_and_the_face_index_with_a_device_model(device):
    rng = np.random.default_rng(2)
    images = rng.random((3, 28, 28, 1), dtype=np.float32)
    numnet.manual_seed(0)
    model = applications.lenet5()
    on_cpu = vision.saliency_map(model, images, 4)
    index_cpu = vision.EmbeddingIndex(model, threshold=10.0)
    index_cpu.add("a", images[0])
    index_cpu.add("b", images[1])
    model.to(device)
    on_device = vision.saliency_map(model, images, 4)
    assert isinstance(on_device, np.ndarray)
    np.testing.assert_allclose(on_device, on_cpu, rtol=1e-3, atol=1e-6)
    index = vision.EmbeddingIndex(model, threshold=10.0)
    index.add("a", images[0])
    index.add("b", images[1])
    np.testing.assert_allclose(
        index.distances(images)[0], index_cpu.distances(images)[0], **F32
    )

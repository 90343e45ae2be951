"""Reads a folder of event files with TensorBoard's own EventAccumulator and prints JSON.

Usage: python read_events.py LOGDIR

Every series is loaded whole (size_guidance 0: no reservoir sampling). Everything
TensorBoard logs at WARNING or above while loading, and every Python warning, is
returned in "warnings", so a test can require that there is none.
"""
import json
import logging
import sys
import time
import warnings

records = []


class Collect(logging.Handler):
    def emit(self, record):
        records.append(f"{record.name}: {record.getMessage()}")


logging.getLogger().addHandler(Collect(level=logging.WARNING))
logging.getLogger().setLevel(logging.WARNING)

with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    from tensorboard.backend.event_processing import plugin_event_accumulator as pea
    from tensorboard.plugins.hparams import plugin_data_pb2
    from tensorboard.util import tensor_util

    start = time.perf_counter()
    acc = pea.EventAccumulator(sys.argv[1], size_guidance={pea.TENSORS: 0, pea.GRAPH: 0, pea.META_GRAPH: 0, pea.RUN_METADATA: 0})
    acc.Reload()
    seconds = time.perf_counter() - start

    out = {"scalars": {}, "text": {}, "hparams": {}, "histograms": {}, "seconds": seconds}
    for tag in acc.Tags()["tensors"]:
        meta = acc.SummaryMetadata(tag)
        plugin = meta.plugin_data.plugin_name
        events = acc.Tensors(tag)
        if plugin == "scalars":
            out["scalars"][tag] = [[e.step, tensor_util.make_ndarray(e.tensor_proto).item(), e.wall_time] for e in events]
        elif plugin == "text":
            out["text"][tag] = [[e.step, tensor_util.make_ndarray(e.tensor_proto).item().decode("utf-8")] for e in events]
        elif plugin == "hparams":
            data = plugin_data_pb2.HParamsPluginData.FromString(meta.plugin_data.content)
            from google.protobuf import json_format

            out["hparams"][tag] = [e.step for e in events] and json_format.MessageToDict(data, preserving_proto_field_name=True)
            out["hparams"][tag + "#count"] = len(events)
        elif plugin == "histograms":
            out["histograms"][tag] = [[e.step, tensor_util.make_ndarray(e.tensor_proto).tolist()] for e in events]

out["warnings"] = records + [str(w.message) for w in caught]
json.dump(out, sys.stdout)

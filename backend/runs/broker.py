"""The embedded broker: kombu's filesystem transport, made safe for several processes.

Used when REDIS_URL is not set (broker URL `loomfs://`), so `make run` needs no server.
kombu's own filesystem transport writes a message in place (a reader can pick up a half
written file) and moves consumed files through the temp folder (not atomic across
filesystems, so two workers can both take one message). Here a message is written under a
temporary name and renamed into the queue folder, and a consumer claims it by renaming it
into a folder on the same filesystem: rename is atomic, so exactly one consumer gets each
message.
"""
import os
import time
import uuid
from pathlib import Path
from queue import Empty

from kombu.transport import filesystem
from kombu.utils.encoding import bytes_to_str, str_to_bytes
from kombu.utils.json import dumps, loads


class Channel(filesystem.Channel):
    @property
    def _root(self) -> Path:
        return Path(self.transport_options.get("data_folder", "var/broker"))

    def _dir(self, name: str) -> Path:
        path = self._root / name
        path.mkdir(parents=True, exist_ok=True)
        return path

    def _put(self, queue, payload, **kwargs):
        # time_ns first, zero-padded, so that sorting names gives sending order.
        name = f"{time.time_ns():020d}_{uuid.uuid4().hex}.{queue}.msg"
        tmp = self._dir("tmp") / name
        tmp.write_bytes(str_to_bytes(dumps(payload)))
        os.replace(tmp, self._dir("queue") / name)

    def _get(self, queue):
        suffix = f"{queue}.msg"
        folder, claimed = self._dir("queue"), self._dir("claimed")
        for name in sorted(os.listdir(folder)):
            if name.partition(".")[2] != suffix:
                continue
            mine = claimed / f"{os.getpid()}-{name}"
            try:
                os.rename(folder / name, mine)
            except FileNotFoundError:
                continue  # another consumer claimed it first
            payload = mine.read_bytes()
            mine.unlink()
            return loads(bytes_to_str(payload))
        raise Empty()

    def _size(self, queue):
        suffix = f"{queue}.msg"
        return sum(1 for name in os.listdir(self._dir("queue")) if name.partition(".")[2] == suffix)

    def _purge(self, queue):
        suffix, count = f"{queue}.msg", 0
        folder = self._dir("queue")
        for name in os.listdir(folder):
            if name.partition(".")[2] == suffix:
                try:
                    os.unlink(folder / name)
                    count += 1
                except FileNotFoundError:
                    pass
        return count


class Transport(filesystem.Transport):
    Channel = Channel
    driver_type = driver_name = "loomfs"

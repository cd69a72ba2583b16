"""A process's memory of values that never change once made (e.g. a saved workflow version's graph
as JSON text), bounded by their total size: the least recently used go first."""
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sized


class SizedLRU:
    def __init__(self, max_size: int):
        self.max_size = max_size  # in len() units of the values (characters of a str, bytes of bytes)
        self._items: OrderedDict[Hashable, Sized] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()  # runserver and Celery may serve requests in threads

    def get_or_make(self, key: Hashable, make: Callable[[], Sized]) -> Sized:
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
                return value
        value = make()  # outside the lock: a database read
        if len(value) > self.max_size:
            return value
        with self._lock:
            if key not in self._items:
                self._items[key] = value
                self._size += len(value)
                while self._size > self.max_size:
                    _, old = self._items.popitem(last=False)
                    self._size -= len(old)
        return value

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._size = 0

    def __len__(self) -> int:
        return len(self._items)

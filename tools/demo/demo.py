"""Inventory: a small stock-keeping module (flint's demo file)."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator


@dataclass
class Item:
    sku: str
    name: str
    quantity: int = 0
    price_cents: int = 0
    tags: list[str] = field(default_factory=list)

    @property
    def value_cents(self) -> int:
        return self.quantity * self.price_cents

    def to_dict(self) -> dict:
        return {
            "sku": self.sku,
            "name": self.name,
            "quantity": self.quantity,
            "price_cents": self.price_cents,
            "tags": list(self.tags),
        }


class Inventory:
    def __init__(self, items: Iterable[Item] = ()) -> None:
        self._items: dict[str, Item] = {}
        for item in items:
            self.add(item)

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[Item]:
        return iter(sorted(self._items.values(), key=lambda i: i.sku))

    def add(self, item: Item) -> None:
        if item.sku in self._items:
            raise KeyError(f"duplicate sku {item.sku!r}")
        self._items[item.sku] = item

    def remove(self, sku: str) -> Item:
        return self._items.pop(sku)

    def restock(self, sku: str, amount: int) -> int:
        if amount <= 0:
            raise ValueError("amount must be positive")
        item = self._items[sku]
        item.quantity += amount
        return item.quantity

    def sell(self, sku: str, amount: int = 1) -> int:
        item = self._items[sku]
        if amount > item.quantity:
            raise ValueError(f"only {item.quantity} of {sku} left")
        item.quantity -= amount
        return item.price_cents * amount

    def total_value_cents(self) -> int:
        return sum(item.value_cents for item in self._items.values())

    def low_stock(self, threshold: int = 5) -> list[Item]:
        return [item for item in self if item.quantity < threshold]

    def by_tag(self, tag: str) -> list[Item]:
        return [item for item in self if tag in item.tags]

    def save_json(self, path: Path) -> None:
        data = [item.to_dict() for item in self]
        path.write_text(json.dumps(data, indent=2))

    @classmethod
    def load_json(cls, path: Path) -> "Inventory":
        data = json.loads(path.read_text())
        return cls(Item(**row) for row in data)

    def export_csv(self, path: Path) -> int:
        with path.open("w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["sku", "name", "quantity", "price_cents"])
            for item in self:
                writer.writerow([item.sku, item.name, item.quantity, item.price_cents])
        return len(self)


def format_cents(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    cents = abs(cents)
    return f"{sign}{cents // 100}.{cents % 100:02d}"


def main() -> None:
    inventory = Inventory([
        Item("A-100", "bolt", 40, 25, ["hardware"]),
        Item("A-200", "nut", 3, 10, ["hardware"]),
        Item("B-300", "glue", 12, 450, ["supplies"]),
    ])
    inventory.restock("A-200", 20)
    print("total:", format_cents(inventory.total_value_cents()))
    for item in inventory.low_stock():
        print("low:", item.sku, item.quantity)


if __name__ == "__main__":
    main()

"""A shop end to end, as a script: raw events → cleaning with a report → features → a purchase model
and a ranking model → each customer's top-N list with a reason per item.

MovieLens 100K is the catalogue and a rating of 4 or more a purchase. The raw feed is made from it
with the faults of a real one (tinyrec.data.messy); tutorials/09_shop_pipeline.py builds each step
with its explanation, and chooses the ranking model on a validation split.

    python examples/shop.py                                   # ML-100K from $TINYREC_DATA, or downloaded
    python examples/shop.py --data ~/data --users 5 --top 10
    python examples/shop.py --new-customer age=25,gender=F,occupation=student
"""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path

import numpy as np

from tinyrec.data import movielens, random_holdout
from tinyrec.data.features import align_records
from tinyrec.data.messy import messy_events, messy_table
from tinyrec.data.preprocess import clean_events, to_implicit
from tinyrec.data.sampling import sampled_candidates
from tinyrec.errors import DataError
from tinyrec.evaluation import evaluate
from tinyrec.metrics.classification import accuracy, precision_recall_f1, roc_auc
from tinyrec.models import BPRMF, FM, FeatureMLP, Popularity
from tinyrec.models.reasons import Reasons

USER_FEATURES, ITEM_FEATURES = ("age", "gender", "occupation"), ("genres", "year")
RANKERS = {
    "bprmf": lambda seed: BPRMF(64, 30, lr=0.05, reg=0.005, seed=seed),
    "fm": lambda seed: FM(32, 5, loss="bce", batch_size=1024, lr=3e-3, user_features=USER_FEATURES,
                          item_features=ITEM_FEATURES, seed=seed),
}  # fmt: skip


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, help="a folder holding ml-100k/ (or ml-100k itself); "
                        "default: $TINYREC_DATA, the cache, or a download")  # fmt: skip
    parser.add_argument("--users", type=int, default=3, help="customers whose lists are printed (default 3)")
    parser.add_argument("--top", type=int, default=5, help="items per list (default 5)")
    parser.add_argument("--ranker", choices=sorted(RANKERS), default="bprmf",
                        help="the ranking model (tutorial 09 chose bprmf on ML-100K)")  # fmt: skip
    parser.add_argument("--epochs", type=int, default=5, help="epochs of the purchase model (default 5)")
    parser.add_argument("--new-customer", default="age=25,gender=F,occupation=student",
                        help="a new customer's features, column=value,... ('' for none)")  # fmt: skip
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.users < 0 or args.top < 1 or args.epochs < 1:
        parser.error("--users must be >= 0, --top and --epochs >= 1")
    pairs = [pair for pair in args.new_customer.split(",") if pair.strip()]
    if any("=" not in pair for pair in pairs):
        parser.error(
            f"--new-customer takes column=value pairs separated by commas, got {args.new_customer!r}"
        )
    args.new_customer = {k.strip(): v.strip() for k, _, v in (pair.partition("=") for pair in pairs)}
    unknown = sorted(set(args.new_customer) - set(USER_FEATURES))
    if unknown:
        parser.error(f"--new-customer names {unknown}; the customer columns are {list(USER_FEATURES)}")
    return args


def load(folder: Path | None):
    """ML-100K from ``folder`` (holding ``ml-100k/``, or that folder itself), else the default places."""
    if folder is not None and (folder / "ml-100k").is_dir():
        folder = folder / "ml-100k"
    return movielens("100k", path=folder)


def clean(data, seed: int):
    """The faulty feed and tables made from ``data``, cleaned: ``(shop, report)``."""
    raw = messy_events(data, seed=seed)
    customers = messy_table(data.user_meta, data.user_ids, USER_FEATURES, seed=seed + 1)
    products = messy_table(data.item_meta, data.item_ids, ("title", *ITEM_FEATURES), seed=seed + 2)
    shop, report = clean_events(raw.users, raw.items, raw.ratings, raw.timestamps, rating_range=(1, 5),
                                known_users=data.user_ids, known_items=data.item_ids)  # fmt: skip
    with warnings.catch_warnings():  # align_records warns of ids it did not match: the report counts them
        warnings.simplefilter("ignore", UserWarning)
        users, user_alignment = align_records(
            shop.user_ids, customers.records, customers.kinds, source="customers"
        )
        items, item_alignment = align_records(
            shop.item_ids, products.records, products.kinds, source="products"
        )
    report.add_features("customers", users, user_alignment)
    report.add_features("products", items, item_alignment)
    report.check_counts()  # every row read is kept or removed for one reason
    return shop.with_meta(user_meta=users, item_meta=items), report


def purchase_metrics(model, train, test, seed: int) -> dict:
    """Accuracy, precision, recall, F1 (at p >= 0.5) and ROC AUC on the test purchases, each beside
    an item its customer never bought (a balanced set)."""
    users, candidates = sampled_candidates(train, test, 1, seed=seed)
    y_true = np.concatenate([np.ones(len(users)), np.zeros(len(users))]).astype(int)
    p = np.concatenate([model.predict(users, candidates[:, 0]), model.predict(users, candidates[:, 1])])
    y_pred = (p >= 0.5).astype(int)
    precision, recall, f1 = precision_recall_f1(y_true, y_pred)
    return {"accuracy": accuracy(y_true, y_pred), "precision": precision, "recall": recall, "f1": f1,
            "roc_auc": roc_auc(y_true, p)}  # fmt: skip


def main(argv=None) -> None:
    args = parse_args(argv)
    try:
        data = load(args.data)
    except DataError as exc:  # not found, no network, a corrupt download: say what to do, no traceback
        raise SystemExit(f"shop.py: {exc}") from None
    print("== cleaning report")
    shop, report = clean(data, args.seed)
    print(report)

    purchases = to_implicit(shop, 4.0)  # a rating of 4 or 5 is a purchase
    train, test = random_holdout(purchases, 0.2, seed=args.seed)
    print(f"\n{len(purchases):,} purchases: {len(train):,} to train on, {len(test):,} held out")

    print("\n== purchase model (FeatureMLP, BCE), held-out purchases and as many never-bought items")
    mlp = FeatureMLP(16, (64, 32), args.epochs, batch_size=1024, lr=3e-3, user_features=USER_FEATURES,
                     item_features=ITEM_FEATURES, seed=args.seed).fit(train)  # fmt: skip
    print("  ".join(f"{k} {v:.3f}" for k, v in purchase_metrics(mlp, train, test, args.seed + 1).items()))

    print("\n== ranking (each held-out purchase among 99 items never bought)")
    ranker = RANKERS[args.ranker](args.seed).fit(train)
    for name, model in ((args.ranker, ranker), ("popularity", Popularity().fit(train))):
        result = evaluate(model, test, train=train, protocol="sampled", k=10)
        print(f"{name:<11} hr@10 {result['hr@10']:.3f}  ndcg@10 {result['ndcg@10']:.3f}")

    titles, reasons = shop.item_meta["title"], Reasons(train, mlp, group=("age", "occupation"))
    customers = np.flatnonzero(train.user_counts() > 0)[: args.users]
    if len(customers):
        print(f"\n== top {args.top} of {len(customers)} customers, with reasons")
        lists, _ = ranker.recommend(customers, k=args.top)
        for u, row in zip(customers.tolist(), lists.tolist(), strict=True):
            print(
                f"customer {shop.user_ids[u]} ({reasons.group_label(u)}, {len(train.positives(u))} purchases)"
            )
            for item in row:
                print(f"  {str(titles[item])[:40]:<40}  {reasons(u, item)}")

    if args.new_customer:
        features = args.new_customer
        model = ranker if ranker.uses_features else mlp  # a model of ids cannot read features
        items, _ = model.recommend(None, k=args.top, features=[features])
        print(f"\n== a new customer {features}, by {type(model).__name__}")
        for item in items[0].tolist():
            print(f"  {str(titles[item])[:40]:<40}  {reasons(None, item, features=features)}")


if __name__ == "__main__":
    main()

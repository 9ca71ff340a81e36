"""Writes tests/fixtures/lgbm/bot_rise.model.txt: a one-tree binary LightGBM model whose every
prediction is known, for the bot's tests and demo config (the tests must be able to make it
say "up" or not): feature `ret` (the config maps it to price_change_1) above 0 gives
probability 1/(1+e^-2) = 0.8808 of a rise, else 1/(1+e^2) = 0.1192. The text is LightGBM's
own format; this script checks that LightGBM reads it and predicts those values.

    python3 tools/lgbm/bot_model.py   # needs lightgbm (tested with 4.7.0) and numpy
"""

import math
import os

import lightgbm as lgb
import numpy as np

TREE = """Tree=0
num_leaves=2
num_cat=0
split_feature=0
split_gain=1
threshold=0
decision_type=2
left_child=-1
right_child=-2
leaf_value=-2 2
leaf_weight=1 1
leaf_count=1 1
internal_value=0
internal_weight=2
internal_count=2
is_linear=0
shrinkage=1

"""

HEAD = """tree
version=v4
num_class=1
num_tree_per_iteration=1
label_index=0
max_feature_idx=0
objective=binary sigmoid:1
feature_names=ret
feature_infos=[-1:1]
tree_sizes={size}

"""

TAIL = """
end of trees

feature_importances:
ret=1

parameters:
end of parameters

pandas_categorical:null
"""


def main():
    text = HEAD.format(size=len(TREE) + 1) + TREE + TAIL
    out = os.path.join(os.path.dirname(__file__), "..", "..", "tests", "fixtures", "lgbm",
                       "bot_rise.model.txt")
    with open(out, "w") as f:
        f.write(text)
    b = lgb.Booster(model_file=out)
    rows = np.array([[-0.01], [0.0], [1e-9], [0.02], [np.nan]])
    got = b.predict(rows)
    want = [1 / (1 + math.exp(2))] * 2 + [1 / (1 + math.exp(-2))] * 2 + [1 / (1 + math.exp(2))]
    assert np.allclose(got, want, rtol=0, atol=1e-15), got
    print(out, got)


if __name__ == "__main__":
    main()

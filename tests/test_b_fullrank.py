import json

from modlab.figures import make_figure


def test_fullrank_figure(tmp_path):
    data = json.loads(make_figure("b-fullrank", "quick", tmp_path, progress=False)["json"].read_text())
    three, four = data["n1=3"], data["n1=4"]
    assert three["j"] == [3, 4, 5, 6, 7] and four["j"] == list(range(4, 16))
    assert three["max_gap_rank_vs_paper"] == 0 and four["max_gap_rank_vs_paper"] > 0.1
    assert all(abs(a - b) < 0.03 for a, b in zip(four["rank"], four["rank_exact"]))
    assert three["rank"][-1] == 1.0 and four["rank"][0] < 0.6

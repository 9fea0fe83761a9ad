import numpy as np

from capacity.model.stages import fleet


def test_provisioned_gpus_rounds_to_replicas_redundancy_and_servers():
    # 10 GPUs of load at 70 % -> 14.29 -> 8 replicas of 2 -> x1.1 -> 9 replicas = 18 GPUs -> 3 servers of 8
    assert fleet.provisioned_gpus(10.0, 0.7, 2, 8, 0.1) == 24
    assert fleet.provisioned_gpus(0.0, 0.7, 2, 8, 0.1) == 0
    # exact multiples are not rounded up further
    assert fleet.provisioned_gpus(5.6, 0.7, 1, 8, 0.0) == 8


def test_gpu_seconds_per_second_is_rate_over_per_gpu_rate():
    assert fleet.gpu_seconds_per_second(np.array([1000.0, 0.0]), np.array([250.0, 0.0])).tolist() == [4.0, 0.0]


def test_replacement_purchases_replace_retired_vintages():
    required = np.array([0, 10, 10, 15, 15, 15, 20], dtype=float)
    bought = fleet.replacement_purchases(required, 3)
    # increments 10 (y1), 5 (y3), 5 (y6); y1's 10 retire after y3 -> bought again y4; y4 again y7
    assert bought.tolist() == [0, 10, 0, 5, 10, 0, 10]
    assert np.all(fleet.standing(bought, 3) >= required)
    assert fleet.standing(bought, 3).tolist() == [0, 10, 10, 15, 15, 15, 20]


def test_capacity_is_kept_at_running_peak_when_demand_falls():
    bought = fleet.replacement_purchases(np.array([5.0, 8.0, 6.0, 6.0]), 10)
    assert fleet.standing(bought, 10).tolist() == [5, 8, 8, 8]


def test_alive_matrix_counts_whole_lives():
    alive = fleet.alive_matrix(4, 2)
    assert alive.tolist() == [[1, 0, 0, 0], [1, 1, 0, 0], [0, 1, 1, 0], [0, 0, 1, 1]]


def test_group_sum():
    assert fleet.group_sum(np.array([1.0, 2.0, 3.0]), np.array([0, 2, 0]), 3).tolist() == [4, 0, 2]

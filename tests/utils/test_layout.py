from keras_chattn.utils import layout


def test_axes_of_both_formats():
    assert layout.channel_axis("channels_last") == -1
    assert layout.channel_axis("channels_first") == 1
    assert layout.spatial_axes("channels_last") == (1, 2)
    assert layout.spatial_axes("channels_first") == (2, 3)


def test_shapes_of_both_formats():
    assert layout.spatial_extent((2, 5, 7, 3), "channels_last") == (5, 7)
    assert layout.spatial_extent((2, 3, 5, 7), "channels_first") == (5, 7)
    assert layout.with_channels((2, 5, 7, 3), 8, "channels_last") == (
        2,
        5,
        7,
        8,
    )
    assert layout.with_channels((2, 3, 5, 7), 8, "channels_first") == (
        2,
        8,
        5,
        7,
    )

"""Networks several test files share, written once."""

# LeNet-5 exactly as the course notes build it (the README's example).
LENET5 = """\
# LeNet-5, as in the notes
input 32x32x1
C1: conv 6 k5 relu          # 28x28x6
S2: avgpool k2 s2           # 14x14x6
C3: conv 16 k5 relu
S4: avgpool k2 s2
C5: conv 120 k5 relu        # 1x1x120
F6: fc 84 relu
F7: fc 10 softmax
"""

# Pooling whose output depends on the rounding: textbook 5×5, floor 4×4.
POOL9 = "input 9x9x1\nmaxpool k2 s2"

# A ResNet basic block that halves the map, with its projection shortcut.
BASIC_BLOCK = """\
input 56x56x64
residual:
  conv 128 k3 s2 p1 nobias
  bn relu
  conv 128 k3 p1 nobias
  bn
  shortcut:
    conv 128 k1 s2 nobias
    bn
relu
"""

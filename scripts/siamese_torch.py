"""The seed's Siamese model in PyTorch (/work/spec-crosscheck.md: the Koch et
al. 2015 tower with batch norm), shared by scripts/make_fixtures.py and
scripts/bench_torch.py. Layers are registered in state_dict order, which the
fixtures rely on. Needs torch; the importing script says so when it is
missing."""
import torch
import torch.nn.functional as F


class Siamese(torch.nn.Module):
    """conv1..conv4 with BN/ReLU/maxpool, fc 9216->4096 sigmoid, head
    |e1-e2| -> out 4096->1 -> sigmoid."""

    def __init__(self):
        super().__init__()
        nn = torch.nn
        self.conv1 = nn.Conv2d(1, 64, 10)
        self.bn1 = nn.BatchNorm2d(64)
        self.conv2 = nn.Conv2d(64, 128, 7)
        self.bn2 = nn.BatchNorm2d(128)
        self.conv3 = nn.Conv2d(128, 128, 4)
        self.bn3 = nn.BatchNorm2d(128)
        self.conv4 = nn.Conv2d(128, 256, 4)
        self.bn4 = nn.BatchNorm2d(256)
        self.fc = nn.Linear(9216, 4096)
        self.out = nn.Linear(4096, 1)

    def tower(self, x):
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 2)
        x = F.max_pool2d(F.relu(self.bn2(self.conv2(x))), 2)
        x = F.max_pool2d(F.relu(self.bn3(self.conv3(x))), 2)
        x = F.relu(self.bn4(self.conv4(x)))
        return torch.sigmoid(self.fc(torch.flatten(x, 1)))

    def forward(self, x):
        # x holds 2B images: rows 0..B-1 left, B..2B-1 right, one tower pass
        # so that batch norm sees all 2B together. Dropout p = 0 is omitted.
        B = x.shape[0] // 2
        e = self.tower(x)
        return torch.sigmoid(self.out(torch.abs(e[:B] - e[B:]))).squeeze(1)

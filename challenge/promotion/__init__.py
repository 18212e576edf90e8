"""The green technology promotion catalogue (绿色技术推广目录): yearly selection rounds, technical
evaluation, the catalogue notice and the published, versioned catalogue."""

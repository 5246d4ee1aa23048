import { View } from '@tarojs/components';
import { useMemo } from 'react';
import { qrMatrix, rowRuns } from '../services/qr';

interface Props {
  text: string;
  /** Target width in px (quiet zone included). */
  size?: number;
  label: string;
  id?: string;
}

/**
 * A QR code drawn as rows of Views (works the same in weapp and h5; no canvas, no eval). Whole pixels per module
 * and a 4-module quiet zone keep it readable by scanners.
 */
export function QrCode({ text, size = 264, label, id }: Props) {
  const matrix = useMemo(() => qrMatrix(text), [text]);
  const cell = Math.max(2, Math.floor(size / (matrix.length + 8)));
  const px = (n: number) => `${n * cell}px`;
  return (
    <View
      id={id}
      className="qr"
      role="img"
      aria-label={label}
      style={{
        padding: px(4),
        backgroundColor: '#ffffff',
        width: px(matrix.length),
        display: 'inline-block',
      }}
    >
      {matrix.map((row, r) => (
        <View key={r} style={{ display: 'flex', flexDirection: 'row', height: px(1) }}>
          {rowRuns(row).map((run, i) => (
            <View
              key={i}
              style={{
                width: px(run.length),
                height: px(1),
                backgroundColor: run.dark ? '#000000' : '#ffffff',
              }}
            />
          ))}
        </View>
      ))}
    </View>
  );
}

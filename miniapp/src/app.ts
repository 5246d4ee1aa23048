import type { PropsWithChildren } from 'react';
import { useLaunch } from '@tarojs/taro';
import { startQueueWatcher } from './services/rides';
import './app.scss';

function App({ children }: PropsWithChildren) {
  // Scans queued offline go out on every launch and whenever the network returns.
  useLaunch(() => startQueueWatcher());
  return children;
}

export default App;

import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';
import tailwindcss from '@tailwindcss/vite';

export default defineConfig({
  plugins: [react(), tailwindcss()],
  server: { proxy: { '/api': 'http://localhost:3000', '/r': 'http://localhost:3000', '/t.js': 'http://localhost:3000' } },
  build: { outDir: 'dist', sourcemap: false },
});
